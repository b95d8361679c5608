"""Rate-limit counters: token buckets per key, in memory or shared on Redis.

Owns the algorithm (docs/rate-limits.md) and its two backends. A bucket holds up to `limit`
units (requests or tokens) and refills continuously at `limit` per minute; a request takes
its cost from every bucket it is charged to, all or nothing. A bucket may go into debt (down
to minus its limit) when a reservation is reconciled with a larger real usage, so the real
usage is always charged. A bucket that is full is the same as no bucket: idle keys cost no
memory in Redis (the key expires once it would be full again) and are pruned in memory.

`take` is one check (one Lua script, one round trip on Redis); `adjust` gives units back or
charges more after the fact. Any Redis failure is raised as StoreUnavailable; the rate-limit
layer decides what that means (it lets the request through).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .base import tenant_key

MINUTE_MS = 60_000
MAX_MEMORY_BUCKETS = 100_000  # past this, full buckets are pruned (never unbounded)


@dataclass(frozen=True)
class Charge:
    """`cost` units from the bucket `name` ("requests" or "tokens") holding `limit`."""

    name: str
    limit: int
    cost: int = 1


@dataclass(frozen=True)
class Bucket:
    """A bucket's state after a check: what the `x-ratelimit-*-<name>` headers say."""

    name: str
    limit: int
    remaining: int  # whole units left now (0 when in debt)
    reset_ms: int  # until it is full again


@dataclass
class Decision:
    allowed: bool
    buckets: list[Bucket] = field(default_factory=list)
    rejected: str | None = None  # the first bucket that refused
    retry_ms: int = 0  # until every cost fits; -1: never (a cost above its limit)

    def bucket(self, name: str) -> Bucket | None:
        return next((b for b in self.buckets if b.name == name), None)


class Limiter(Protocol):
    async def take(self, key: str, charges: Sequence[Charge]) -> Decision:
        """Take every charge's cost from its bucket of `key`, or none when one does not fit."""
        ...

    async def adjust(self, key: str, name: str, limit: int, units: int) -> None:
        """Give `units` back to the bucket (a negative amount charges more)."""
        ...

    async def close(self) -> None: ...


def _decide(charges: Sequence[Charge], levels: list[float]) -> tuple[int, int]:
    """(index of the first refusing charge + 1, or 0; ms until all fit, -1: never)."""
    rejected, wait = 0, 0.0
    for i, (charge, level) in enumerate(zip(charges, levels, strict=True)):
        if charge.cost <= level:
            continue
        rejected = rejected or i + 1
        if charge.cost > charge.limit:
            wait = -1
        elif wait >= 0:
            wait = max(wait, (charge.cost - level) * MINUTE_MS / charge.limit)
    return rejected, (-1 if wait < 0 else math.ceil(wait))


def _state(charge: Charge, level: float) -> Bucket:
    reset = math.ceil((charge.limit - level) * MINUTE_MS / charge.limit)
    return Bucket(charge.name, charge.limit, max(0, math.floor(level)), max(0, reset))


class MemoryLimiter:
    """One worker's buckets (PORTICO_STORE_URL empty: there is only one worker)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (level, ms)
        self._limits: dict[tuple[str, str], int] = {}  # the limit each was last charged at

    @staticmethod
    def _now() -> float:
        return time.monotonic() * 1000

    def _level(self, key: str, name: str, limit: int, now: float) -> float:
        found = self._buckets.get((key, name))
        if found is None:
            return float(limit)
        level, at = found
        return min(float(limit), level + (now - at) * limit / MINUTE_MS)

    def _set(self, key: str, name: str, limit: int, level: float, now: float) -> None:
        if len(self._buckets) >= MAX_MEMORY_BUCKETS:
            self._prune(now)
        self._buckets[(key, name)] = (level, now)
        self._limits[(key, name)] = limit

    def _prune(self, now: float) -> None:
        """Drop the buckets that refilled (a full bucket is no bucket); if that is not
        enough, the half idle longest, so the map stays bounded whatever the keys."""
        for (key, name), (level, at) in list(self._buckets.items()):
            limit = self._limits.get((key, name), 0)
            if limit and level + (now - at) * limit / MINUTE_MS >= limit:
                del self._buckets[(key, name)]
                del self._limits[(key, name)]
        if len(self._buckets) >= MAX_MEMORY_BUCKETS // 2:
            oldest = sorted(self._buckets.items(), key=lambda item: item[1][1])
            for k, _ in oldest[: len(oldest) // 2 + 1]:
                del self._buckets[k]
                del self._limits[k]

    async def take(self, key: str, charges: Sequence[Charge]) -> Decision:
        now = self._now()
        levels = [self._level(key, c.name, c.limit, now) for c in charges]
        rejected, wait = _decide(charges, levels)
        if not rejected:
            levels = [level - c.cost for c, level in zip(charges, levels, strict=True)]
            for c, level in zip(charges, levels, strict=True):
                self._set(key, c.name, c.limit, level, now)
        return Decision(
            allowed=not rejected,
            buckets=[_state(c, level) for c, level in zip(charges, levels, strict=True)],
            rejected=charges[rejected - 1].name if rejected else None,
            retry_ms=wait,
        )

    async def adjust(self, key: str, name: str, limit: int, units: int) -> None:
        now = self._now()
        level = self._level(key, name, limit, now) + units
        self._set(key, name, limit, max(-float(limit), min(float(limit), level)), now)

    def __len__(self) -> int:
        return len(self._buckets)

    async def close(self) -> None:
        return None  # nothing to release; the counts stay for a server started again


# KEYS: one hash per bucket (fields l: level, t: ms of Redis's clock). ARGV: per bucket,
# limit then cost. Returns {rejected (1-based, 0: allowed), ms until all fit (-1: never),
# then per bucket: remaining, ms until full}. Levels are floats kept as text.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local levels, rejected, wait = {}, 0, 0
for i, key in ipairs(KEYS) do
  local limit, cost = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local s = redis.call('HMGET', key, 'l', 't')
  local level = limit
  if s[1] then level = math.min(limit, tonumber(s[1]) + (now - tonumber(s[2])) * limit / 60000) end
  levels[i] = level
  if cost > level then
    if rejected == 0 then rejected = i end
    if cost > limit then
      wait = -1
    elseif wait >= 0 then
      wait = math.max(wait, (cost - level) * 60000 / limit)
    end
  end
end
if rejected == 0 then
  for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i - 1])
    levels[i] = levels[i] - tonumber(ARGV[2 * i])
    redis.call('HSET', key, 'l', tostring(levels[i]), 't', tostring(now))
    redis.call('PEXPIRE', key, math.ceil((limit - levels[i]) * 60000 / limit) + 1000)
  end
end
local out = {rejected, math.ceil(wait)}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i - 1])
  table.insert(out, math.max(0, math.floor(levels[i])))
  table.insert(out, math.max(0, math.ceil((limit - levels[i]) * 60000 / limit)))
end
return out
"""

# KEYS: the bucket. ARGV: limit, units (negative: charge). The level stays within ±limit.
ADJUST = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit, units = tonumber(ARGV[1]), tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'l', 't')
local level = limit
if s[1] then level = math.min(limit, tonumber(s[1]) + (now - tonumber(s[2])) * limit / 60000) end
level = math.max(-limit, math.min(limit, level + units))
redis.call('HSET', KEYS[1], 'l', tostring(level), 't', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((limit - level) * 60000 / limit) + 1000)
return 1
"""

NAMESPACE = "portico:limits"


class RedisLimiter:
    """Buckets every worker and pod on one Redis shares; each check is one script call."""

    def __init__(self, url: str, *, namespace: str = NAMESPACE) -> None:
        from redis import asyncio as aioredis  # redis-py is imported only when it is used

        from .redis import TIMEOUT, talking

        self._talking = talking
        self.ns = namespace
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
        )
        self._take = self.client.register_script(TAKE)
        self._adjust = self.client.register_script(ADJUST)

    def _key(self, key: str, name: str) -> str:
        return f"{self.ns}:{tenant_key(key)}:{name}"

    async def take(self, key: str, charges: Sequence[Charge]) -> Decision:
        args: list[int] = []
        for c in charges:
            args += [c.limit, c.cost]
        async with self._talking("rate-limit store"):
            rejected, wait, *states = await self._take(
                keys=[self._key(key, c.name) for c in charges], args=args
            )
        buckets = [
            Bucket(c.name, c.limit, int(states[2 * i]), int(states[2 * i + 1]))
            for i, c in enumerate(charges)
        ]
        return Decision(
            allowed=not rejected,
            buckets=buckets,
            rejected=charges[int(rejected) - 1].name if rejected else None,
            retry_ms=int(wait),
        )

    async def adjust(self, key: str, name: str, limit: int, units: int) -> None:
        async with self._talking("rate-limit store"):
            await self._adjust(keys=[self._key(key, name)], args=[limit, units])

    async def close(self) -> None:
        await self.client.aclose()


def open_limiter(store_url: str) -> Limiter:
    """Redis when the store is shared (PORTICO_STORE_URL), else this worker's memory."""
    if store_url:
        return RedisLimiter(store_url)
    return MemoryLimiter()
