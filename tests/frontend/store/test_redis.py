"""RedisStore on a real redis-server: what only the shared backend has to prove.

The TTL on Redis's own clock, caps that hold across several clients (workers) of one store,
keys that never hold a tenant id, and an unreachable Redis as StoreUnavailable (a 503).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis import asyncio as aioredis

from frontend.store import StoreUnavailable, Usage
from frontend.store.codec import encode
from frontend.store.redis import RedisStore
from tests.frontend.store.entries import entry
from tests.redis_server import RedisServer


def open_store(url: str, **caps: float) -> RedisStore:
    settings = {"max_entries": 100, "max_bytes": 1 << 30, "ttl": 60.0, **caps}
    return RedisStore(
        url,
        max_entries=int(settings["max_entries"]),
        max_bytes=int(settings["max_bytes"]),
        ttl=settings["ttl"],
    )


async def test_the_ttl_holds_on_redis(redis_server: RedisServer) -> None:
    s = open_store(redis_server.fresh_url(), ttl=0.3)
    try:
        await s.put("t", entry("resp_1"))
        assert await s.get("t", "resp_1") is not None
        await asyncio.sleep(0.45)
        assert await s.get("t", "resp_1") is None
        assert (await s.chain("t", "resp_1", 5)).missing == "resp_1"
        await s.put("t", entry("resp_2"))  # the put prunes the expired entry's bookkeeping
        assert (await s.usage()).entries == 1
    finally:
        await s.close()


async def test_caps_hold_across_workers_of_one_store(redis_server: RedisServer) -> None:
    """Four clients (as four workers) putting concurrently: the caps are the store's."""
    url = redis_server.fresh_url()
    size = len(encode(entry("resp_00")))
    workers = [open_store(url, max_entries=10, max_bytes=1 << 30) for _ in range(4)]
    try:
        await asyncio.gather(*(workers[n % 4].put("t", entry(f"resp_{n:02}")) for n in range(40)))
        usage = await workers[0].usage()
        assert usage == Usage(10, 10 * size)
        found = [await workers[1].get("t", f"resp_{n:02}") is not None for n in range(40)]
        assert sum(found) == 10
    finally:
        for w in workers:
            await w.close()


async def test_keys_hold_no_tenant_id_and_expire(redis_server: RedisServer) -> None:
    url = redis_server.fresh_url()
    s = open_store(url, ttl=30)
    raw = aioredis.Redis.from_url(url)
    try:
        await s.put("tenant-alice", entry("resp_1"))
        keys = [k.decode() for k in await raw.keys("*")]
        assert keys and not any("alice" in k for k in keys)
        [entry_key] = [k for k in keys if k.endswith(":resp_1")]
        assert 0 < await raw.pttl(entry_key) <= 30_000
        assert await raw.ttl("portico:store:order") == -1  # bookkeeping never expires
    finally:
        await raw.aclose()
        await s.close()


async def test_an_unreachable_redis_is_store_unavailable(tmp_path: Path) -> None:
    s = open_store(f"unix://{tmp_path}/nobody.sock")
    try:
        for call in (s.get("t", "resp_1"), s.put("t", entry("resp_1")), s.delete("t", "x")):
            with pytest.raises(StoreUnavailable):
                await call
        with pytest.raises(StoreUnavailable):
            await s.chain("t", "resp_1", 3)
    finally:
        await s.close()
