"""Background runs' shared state on Redis: event logs as Redis Streams, leases, cancel requests.

Owns the Redis side of the run-log contract (runlog.py), for every worker and pod on one
Redis. Why Streams: a log must be replayed from any point (XRANGE) and followed live from
there without a gap between the two (XREAD BLOCK from the last id read); pub/sub would lose
what is published between a replay and the subscription, and a list cannot block on "after
N". Each event is one stream entry whose id is `0-<seq + 1>`, so "after N" is an id.

Keys (NS is the store's namespace, `portico:store`; M is `<tenant key>:<response id>`):

- `NS:e:M`: the stream, one field `f` holding the event's SSE frame;
- `NS:em:M`: a hash: `bytes` (the frames' total), `last` (the newest seq), `done` (1 once
  the terminal event is in);
- `NS:l:M`: the owner's lease, a string with a short expiry; `NS:c:M`: a cancel request.

The append runs as one Lua script (atomic): the order and lease checks, XADD, trimming the
oldest entries (never the newest) until the byte cap holds, and both keys' expiry (the
store's TTL, from the last append). A batch of events is one round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from redis import asyncio as aioredis

from .base import tenant_key
from .redis import NAMESPACE, TIMEOUT, talking
from .runlog import Window

log = logging.getLogger("portico.store")

# KEYS: stream, meta, lease. ARGV: ttl ms, max bytes, terminal (0/1), orphan (0/1), then
# seq, frame pairs. Returns the outcome (runlog.APPENDED, ENDED, OUT_OF_ORDER, LEASED).
APPEND = """
local ttl, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
if redis.call('HGET', KEYS[2], 'done') == '1' then return 'ended' end
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 'leased' end
local last = tonumber(redis.call('HGET', KEYS[2], 'last') or '-1')
if #ARGV > 4 and tonumber(ARGV[5]) ~= last + 1 then return 'out_of_order' end
local size = tonumber(redis.call('HGET', KEYS[2], 'bytes') or '0')
for i = 5, #ARGV, 2 do
  redis.call('XADD', KEYS[1], '0-' .. (tonumber(ARGV[i]) + 1), 'f', ARGV[i + 1])
  size = size + string.len(ARGV[i + 1])
  last = tonumber(ARGV[i])
end
while size > cap and redis.call('XLEN', KEYS[1]) > 1 do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  size = size - string.len(oldest[2][2])
  redis.call('XDEL', KEYS[1], oldest[1])
end
redis.call('HSET', KEYS[2], 'bytes', size, 'last', last, 'done', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 'appended'
"""

BLOCK_MS = 1000  # the longest one XREAD waits (under the pool's socket timeout)


def _seq(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[1]) - 1


class RedisRunLog:
    def __init__(self, url: str, *, max_bytes: int, ttl: float, namespace: str = NAMESPACE) -> None:
        self.max_bytes = max_bytes
        self.ttl_ms = max(1, round(ttl * 1000))
        self.ns = namespace
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
        )
        self._append = self.client.register_script(APPEND)

    def _keys(self, tenant: str, response_id: str) -> tuple[str, str, str, str]:
        member = f"{tenant_key(tenant)}:{response_id}"
        ns = self.ns
        return f"{ns}:e:{member}", f"{ns}:em:{member}", f"{ns}:l:{member}", f"{ns}:c:{member}"

    async def append(
        self,
        tenant: str,
        response_id: str,
        events: Sequence[tuple[int, bytes]],
        *,
        terminal: bool = False,
        orphan: bool = False,
    ) -> str:
        stream, meta, lease, _ = self._keys(tenant, response_id)
        args: list[Any] = [self.ttl_ms, self.max_bytes, int(terminal), int(orphan)]
        for seq, frame in events:
            args += [seq, frame]
        async with talking("run log"):
            outcome = await self._append(keys=[stream, meta, lease], args=args)
        return outcome.decode() if isinstance(outcome, bytes) else str(outcome)

    async def read(self, tenant: str, response_id: str, after: int) -> Window | None:
        stream, meta, _, _ = self._keys(tenant, response_id)
        async with talking("run log"), self.client.pipeline(transaction=True) as pipe:
            pipe.hmget(meta, ["last", "done"])
            pipe.xrange(stream, "-", "+", count=1)
            pipe.xrange(stream, f"0-{after + 2}", "+")
            (last, done), oldest, entries = await pipe.execute()
        if last is None:
            return None
        return Window(
            frames=[fields[b"f"] for _, fields in entries],
            seqs=[_seq(entry_id) for entry_id, _ in entries],
            first=_seq(oldest[0][0]) if oldest else -1,
            last=int(last),
            done=done == b"1",
        )

    async def wait(
        self, tenant: str, response_id: str, after: int, timeout: float
    ) -> Window | None:
        window = await self.read(tenant, response_id, after)
        if window is None or window.frames or window.done:
            return window
        stream = self._keys(tenant, response_id)[0]
        block = max(1, min(BLOCK_MS, round(timeout * 1000)))
        async with talking("run log"):
            await self.client.xread({stream: f"0-{after + 1}"}, count=1, block=block)
        return await self.read(tenant, response_id, after)

    async def lease(self, tenant: str, response_id: str, ttl: float) -> bool:
        _, _, lease, cancel = self._keys(tenant, response_id)
        async with talking("run log"), self.client.pipeline(transaction=False) as pipe:
            pipe.set(lease, b"1", px=max(1, round(ttl * 1000)))
            pipe.exists(cancel)
            _, cancelled = await pipe.execute()
        return bool(cancelled)

    async def release(self, tenant: str, response_id: str) -> None:
        _, _, lease, cancel = self._keys(tenant, response_id)
        async with talking("run log"):
            await self.client.delete(lease, cancel)

    async def leased(self, tenant: str, response_id: str) -> bool:
        async with talking("run log"):
            return bool(await self.client.exists(self._keys(tenant, response_id)[2]))

    async def request_cancel(self, tenant: str, response_id: str) -> None:
        async with talking("run log"):
            await self.client.set(self._keys(tenant, response_id)[3], b"1", px=self.ttl_ms)

    async def close(self) -> None:
        await self.client.aclose()
