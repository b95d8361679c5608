"""The shared response store on Redis: every worker and every replica sees the same entries.

Owns the Redis side of the store contract (base.py). Reads by id are one GET on the
pipelined connection (pipelined.py), the entry decoded by codec.py; what must be atomic
with the bookkeeping (a put with its evictions, a delete, a chain walk in one round trip)
runs as the Lua scripts of scripts.py (PUT on the pipelined connection, the rest through
aiocache's redis-py client and its pool). Caps, TTL and eviction order are therefore the
store's, not a worker's. Any Redis failure is raised as StoreUnavailable (a 503).

Puts are group commits (group_commit.py): the puts of every response that ends while one
PUT call is in flight go out together in the next, on the pipelined connection of
pipelined.py (hiredis, no redis-py client on the hot path), so a stored response costs the
event loop ~30-60 µs of Python work, not the ~150-170 µs of a redis-py call.

The URL is redis://[:password@]host:port/db, rediss://… (TLS) or unix:///path?db=N.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiocache import RedisCache
from aiocache.serializers import BaseSerializer
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from .. import metrics
from . import codec, scripts
from .base import (
    BY_BYTES,
    BY_ENTRIES,
    EXPIRED,
    Chain,
    StoredResponse,
    StoreUnavailable,
    Usage,
    tenant_key,
)
from .group_commit import GroupCommit
from .pipelined import PipelinedRedis

log = logging.getLogger("portico.store")
NAMESPACE = "portico:store"
TIMEOUT = 5.0  # seconds one store operation may take before it is a 503


@asynccontextmanager
async def talking(what: str = "response store") -> AsyncIterator[None]:
    """One Redis conversation: any failure becomes StoreUnavailable (a 503), logged once."""
    try:
        yield
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("the %s failed: %s", what, exc)
        raise StoreUnavailable("The response store is unreachable; retry shortly.") from exc


class _EntrySerializer(BaseSerializer):
    """aiocache's view of an entry: bytes in Redis, a StoredResponse here."""

    DEFAULT_ENCODING = None  # bytes, not text

    def dumps(self, value: Any) -> bytes:
        return codec.encode(value)

    def loads(self, value: Any) -> StoredResponse | None:
        return None if value is None else codec.decode(value)


class RedisStore:
    def __init__(
        self,
        url: str,
        *,
        max_entries: int,
        max_bytes: int,
        ttl: float,
        namespace: str = NAMESPACE,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl_ms = max(1, round(ttl * 1000))
        self.prefix = f"{namespace}:r:"
        self.claims = f"{namespace}:claim:"  # one-time names (SET NX with an expiry)
        self.keys = [f"{namespace}:order", f"{namespace}:sizes", f"{namespace}:bytes"]

        def pool(**_: Any) -> aioredis.ConnectionPool:  # aiocache's host/port: the URL's
            return aioredis.ConnectionPool.from_url(
                url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
            )

        self.cache = RedisCache(
            serializer=_EntrySerializer(),
            namespace=f"{namespace}:r",
            timeout=TIMEOUT,
            connection_pool_class=pool,
        )
        client: aioredis.Redis = self.cache.client
        self.pipe = PipelinedRedis(url, timeout=TIMEOUT)  # the hot writes (pipelined.py)
        self._put = self.pipe.script(scripts.PUT)
        self._delete = client.register_script(scripts.DELETE)
        self._chain = client.register_script(scripts.CHAIN)
        self._usage = client.register_script(scripts.USAGE)
        self._puts: GroupCommit[tuple[str, bytes], bool] = GroupCommit(self._put_batch)

    async def ping(self) -> None:
        async with talking():
            await self.cache.client.ping()

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        async with talking():
            blob = await self.pipe.call("GET", f"{self.prefix}{tenant_key(tenant)}:{response_id}")
        return None if blob is None else codec.decode(blob)

    async def put(self, tenant: str, entry: StoredResponse) -> bool:
        return await self._puts.submit((f"{tenant_key(tenant)}:{entry.id}", codec.encode(entry)))

    async def _put_batch(self, puts: list[tuple[str, bytes]]) -> list[bool]:
        """One PUT script call for the puts gathered while the last one was in flight."""
        args: list[str | bytes | int] = [self.prefix, self.ttl_ms, self.max_entries]
        args.append(self.max_bytes)
        for member, blob in puts:
            args += [member, blob]
        async with talking():
            reply = await self.pipe.evalsha(self._put, [*self.keys], args)
        expired, by_entries, by_bytes, entries, size, *kept = reply
        for reason, count in ((EXPIRED, expired), (BY_ENTRIES, by_entries), (BY_BYTES, by_bytes)):
            if count:
                metrics.STORE_EVICTIONS.labels(reason).inc(count)
        self._report(entries, size)
        return [bool(k) for k in kept]

    async def delete(self, tenant: str, response_id: str) -> bool:
        member = f"{tenant_key(tenant)}:{response_id}"
        async with talking():
            found, entries, size = await self._delete(keys=self.keys, args=[self.prefix, member])
        self._report(entries, size)
        return bool(found)

    async def chain(self, tenant: str, response_id: str, max_depth: int) -> Chain:
        args: list[str | int] = [self.prefix, tenant_key(tenant), response_id, max_depth]
        async with talking():
            state, wanted, *blobs = await self._chain(args=args)
        chain = Chain(entries=[codec.decode(blob) for blob in reversed(blobs)])
        if state == 0:
            chain.missing = wanted.decode()
        elif state == 2:
            chain.too_deep = True
        return chain

    async def usage(self) -> Usage:
        async with talking():
            entries, size = await self._usage(keys=[self.keys[0], self.keys[2]])
        return Usage(entries=int(entries), bytes=int(size))

    async def claim(self, tenant: str, name: str, ttl: float) -> bool:
        key = f"{self.claims}{tenant_key(tenant)}:{name}"
        async with talking():
            taken = await self.cache.client.set(key, b"1", nx=True, px=max(1, round(ttl * 1000)))
        return bool(taken)

    async def release(self, tenant: str, name: str) -> None:
        async with talking():
            await self.cache.client.delete(f"{self.claims}{tenant_key(tenant)}:{name}")

    async def close(self) -> None:
        await self._puts.close()
        await self.pipe.close()
        await self.cache.client.aclose()

    def _report(self, entries: int, size: int) -> None:
        metrics.STORE_ENTRIES.set(entries)
        metrics.STORE_BYTES.set(size)
