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
store's TTL, from the last append). Appends (and lease refreshes) take the pipelined
connection of pipelined.py, and appends are group commits (group_commit.py): the batches of
every background run that arrive while one APPEND call is in flight go out in the next, so
a worker running many background streams pays one call per round trip, not one per batch.
Reads (XRANGE, XREAD BLOCK) stay on redis-py's pool: a blocking read must not hold up the
pipelined writes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis import asyncio as aioredis

from .base import tenant_key
from .group_commit import GroupCommit
from .pipelined import PipelinedRedis
from .redis import NAMESPACE, TIMEOUT, talking
from .resp import Arg
from .runlog import Window

log = logging.getLogger("portico.store")

# ARGV: ttl ms, max bytes, then for each log of the batch (group_commit.py; one append per
# log, in order): stream key, meta key, lease key, terminal (0/1), the flags orphan and
# reopen as two digits ("01": reopen only), the number of events n, then n seq, frame pairs.
# Returns one outcome per log (runlog.APPENDED, ENDED, OUT_OF_ORDER, LEASED), each decided
# as if that append ran alone.
APPEND = """
local ttl, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
local i = 3
while i <= #ARGV do
  local stream, meta, lease = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local terminal, flags, n = ARGV[i + 3], ARGV[i + 4], tonumber(ARGV[i + 5])
  local orphan, reopen = string.sub(flags, 1, 1), string.sub(flags, 2, 2)
  local first, stop = i + 6, i + 5 + 2 * n
  i = stop + 1
  local last = tonumber(redis.call('HGET', meta, 'last') or '-1')
  if redis.call('HGET', meta, 'done') == '1' and reopen ~= '1' then
    table.insert(out, 'ended')
  elseif orphan == '1' and redis.call('EXISTS', lease) == 1 then
    table.insert(out, 'leased')
  elseif n > 0 and tonumber(ARGV[first]) ~= last + 1 then
    table.insert(out, 'out_of_order')
  else
    local size = tonumber(redis.call('HGET', meta, 'bytes') or '0')
    for j = first, stop, 2 do
      redis.call('XADD', stream, '0-' .. (tonumber(ARGV[j]) + 1), 'f', ARGV[j + 1])
      size = size + string.len(ARGV[j + 1])
      last = tonumber(ARGV[j])
    end
    while size > cap and redis.call('XLEN', stream) > 1 do
      local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
      size = size - string.len(oldest[2][2])
      redis.call('XDEL', stream, oldest[1])
    end
    redis.call('HSET', meta, 'bytes', size, 'last', last, 'done', terminal)
    redis.call('PEXPIRE', stream, ttl)
    redis.call('PEXPIRE', meta, ttl)
    table.insert(out, 'appended')
  end
end
return out
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
        self.pipe = PipelinedRedis(url, timeout=TIMEOUT)  # appends and leases (pipelined.py)
        self._append = self.pipe.script(APPEND)
        self._appends: GroupCommit[list[Arg], str] = GroupCommit(self._append_batch)

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
        reopen: bool = False,
    ) -> str:
        stream, meta, lease, _ = self._keys(tenant, response_id)
        flags = f"{int(orphan)}{int(reopen)}"
        args: list[Arg] = [stream, meta, lease, int(terminal), flags, len(events)]
        for seq, frame in events:
            args += [seq, frame]
        return await self._appends.submit(args)

    async def _append_batch(self, appends: list[list[Arg]]) -> list[str]:
        """One APPEND script call for the appends gathered while the last was in flight."""
        args: list[Arg] = [self.ttl_ms, self.max_bytes]
        for one in appends:
            args += one
        async with talking("run log"):
            outcomes = await self.pipe.evalsha(self._append, [], args)
        return [o.decode() if isinstance(o, bytes) else str(o) for o in outcomes]

    async def read(self, tenant: str, response_id: str, after: int) -> Window | None:
        stream, meta, _, _ = self._keys(tenant, response_id)
        async with talking("run log"):
            (last, done), oldest, entries = await self.pipe.transaction(
                ("HMGET", meta, "last", "done"),
                ("XRANGE", stream, "-", "+", "COUNT", 1),
                ("XRANGE", stream, f"0-{after + 2}", "+"),
            )
        if last is None:
            return None
        return Window(
            frames=[fields[1] for _, fields in entries],
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
        async with talking("run log"):
            await self.pipe.call("SET", lease, b"1", "PX", max(1, round(ttl * 1000)))
            return bool(await self.pipe.call("EXISTS", cancel))

    async def release(self, tenant: str, response_id: str) -> None:
        _, _, lease, cancel = self._keys(tenant, response_id)
        async with talking("run log"):
            await self.client.delete(lease, cancel)

    async def leased(self, tenant: str, response_id: str) -> bool:
        async with talking("run log"):
            return bool(await self.pipe.call("EXISTS", self._keys(tenant, response_id)[2]))

    async def request_cancel(self, tenant: str, response_id: str) -> None:
        async with talking("run log"):
            await self.client.set(self._keys(tenant, response_id)[3], b"1", px=self.ttl_ms)

    async def close(self) -> None:
        await self._appends.close()
        await self.pipe.close()
        await self.client.aclose()
