"""The rate-limit counters (frontend/store/limits.py): one contract for the memory and the
Redis backend (a real redis-server), token buckets that refill per minute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis import asyncio as aioredis

from frontend.store import limits
from frontend.store.base import StoreUnavailable
from frontend.store.limits import Charge, Limiter, MemoryLimiter, RedisLimiter
from tests.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Limiter]:
    if request.param == "memory":
        made: Limiter = MemoryLimiter()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        made = RedisLimiter(server.fresh_url())
    yield made
    await made.close()


async def test_requests_run_out_then_refuse_with_the_wait(limiter: Limiter) -> None:
    for left in (2, 1, 0):
        decision = await limiter.take("k", [Charge("requests", 3)])
        assert decision.allowed
        [bucket] = decision.buckets
        assert (bucket.name, bucket.limit, bucket.remaining) == ("requests", 3, left)
        # refilling 3 a minute: each taken request is 20 s back to full
        assert (3 - left) * 20_000 - 500 <= bucket.reset_ms <= (3 - left) * 20_000
    refused = await limiter.take("k", [Charge("requests", 3)])
    assert not refused.allowed and refused.rejected == "requests"
    assert 19_000 <= refused.retry_ms <= 20_000  # one request comes back in 20 s
    assert refused.buckets[0].remaining == 0


async def test_keys_and_limits_are_separate(limiter: Limiter) -> None:
    assert (await limiter.take("a", [Charge("requests", 1)])).allowed
    assert not (await limiter.take("a", [Charge("requests", 1)])).allowed
    assert (await limiter.take("b", [Charge("requests", 1)])).allowed
    assert (await limiter.take("a", [Charge("tokens", 10, 5)])).allowed


async def test_all_or_nothing(limiter: Limiter) -> None:
    charges = [Charge("requests", 10), Charge("tokens", 100, 80)]
    assert (await limiter.take("k", charges)).allowed
    refused = await limiter.take("k", charges)
    assert not refused.allowed and refused.rejected == "tokens"
    # 60 tokens missing at 100 a minute: 36 s (a little less: time passed)
    assert 35_000 <= refused.retry_ms <= 36_000
    requests, tokens = refused.buckets
    assert requests.remaining == 9  # the refused request took nothing
    assert tokens.remaining == 20
    after = await limiter.take("k", [Charge("requests", 10), Charge("tokens", 100, 20)])
    assert after.allowed and [b.remaining for b in after.buckets] == [8, 0]


async def test_a_cost_above_the_limit_never_fits(limiter: Limiter) -> None:
    refused = await limiter.take("k", [Charge("tokens", 100, 101)])
    assert not refused.allowed and refused.retry_ms == -1
    assert refused.buckets[0].remaining == 100


async def test_buckets_refill_continuously(limiter: Limiter) -> None:
    assert (await limiter.take("k", [Charge("tokens", 600, 600)])).allowed  # ten a second
    assert not (await limiter.take("k", [Charge("tokens", 600, 2)])).allowed
    await asyncio.sleep(0.35)
    assert (await limiter.take("k", [Charge("tokens", 600, 2)])).allowed


async def test_adjust_gives_back_and_charges_into_debt(limiter: Limiter) -> None:
    assert (await limiter.take("k", [Charge("tokens", 1000, 900)])).allowed
    await limiter.adjust("k", "tokens", 1000, 800)  # 800 of the 900 were not used
    state = await limiter.take("k", [Charge("tokens", 1000, 0)])
    assert 900 <= state.buckets[0].remaining <= 901
    await limiter.adjust("k", "tokens", 1000, 5000)  # never above the limit
    assert (await limiter.take("k", [Charge("tokens", 1000, 0)])).buckets[0].remaining == 1000
    await limiter.adjust("k", "tokens", 1000, -5000)  # used far more: debt, down to -limit
    refused = await limiter.take("k", [Charge("tokens", 1000, 1)])
    assert not refused.allowed and refused.buckets[0].remaining == 0
    assert 59_000 <= refused.retry_ms <= 60_100  # a whole minute to climb out of the debt
    assert 119_000 <= refused.buckets[0].reset_ms <= 120_000


async def test_memory_buckets_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_MEMORY_BUCKETS", 100)
    limiter = MemoryLimiter()
    for i in range(1000):
        assert (await limiter.take(f"key{i}", [Charge("requests", 5)])).allowed
    assert len(limiter) <= 100
    # the newest keep their count
    assert (await limiter.take("key999", [Charge("requests", 5)])).buckets[0].remaining == 3


async def test_redis_buckets_are_shared_and_expire_once_full(redis_server: RedisServer) -> None:
    url = redis_server.fresh_url()
    first, second = RedisLimiter(url), RedisLimiter(url)
    try:
        assert (await first.take("k", [Charge("requests", 2)])).allowed
        assert (await second.take("k", [Charge("requests", 2)])).allowed
        assert not (await first.take("k", [Charge("requests", 2)])).allowed
        raw = aioredis.Redis.from_url(url)
        [key] = await raw.keys("portico:limits:*")
        assert b"k" not in key.split(b":")[2]  # the key's name is a digest
        assert 30_000 < await raw.pttl(key) <= 61_000  # full again within a minute
        await raw.aclose()
    finally:
        await first.close()
        await second.close()


async def test_redis_failures_are_store_unavailable() -> None:
    limiter = RedisLimiter("unix:///nonexistent/redis.sock")
    try:
        with pytest.raises(StoreUnavailable):
            await limiter.take("k", [Charge("requests", 1)])
        with pytest.raises(StoreUnavailable):
            await limiter.adjust("k", "tokens", 10, 1)
    finally:
        await limiter.close()
