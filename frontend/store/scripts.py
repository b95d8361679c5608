"""The Lua scripts the Redis backend runs, each atomic on the Redis server.

Keys (NS is the namespace, `portico:store` by default; M is a member, `<tenant key>:<id>`):

- `NS:r:M`: one encoded entry (codec.py), a string with the TTL as its expiry;
- `NS:order`: a sorted set of every member, scored by its put time (Redis's clock, in ms):
  the eviction order, and the expiry order (the TTL is the same for every entry);
- `NS:sizes`: a hash, member -> the entry's bytes; `NS:bytes`: their sum.

PUT prunes expired members (a bounded batch), then for each entry of its batch (the puts
that group_commit.py gathered) replaces it and evicts the oldest until both caps hold;
DELETE removes an entry and its bookkeeping; CHAIN follows `previous_response_id` from the
first line of each entry, up to a depth, in one round trip.
Every script returns what it did and the totals, for the metrics.
"""

from __future__ import annotations

_DROP = """
local function drop(m)
  redis.call('DEL', prefix .. m)
  local size = tonumber(redis.call('HGET', KEYS[2], m) or '0')
  redis.call('HDEL', KEYS[2], m)
  redis.call('ZREM', KEYS[1], m)
  if size > 0 then redis.call('DECRBY', KEYS[3], size) end
end
local function total() return tonumber(redis.call('GET', KEYS[3]) or '0') end
"""

# KEYS: order, sizes, bytes. ARGV: entry prefix, ttl ms, max entries, max bytes, then
# member, blob pairs (one batch of puts, group_commit.py), each put as if alone, in order.
# Returns {expired, evicted by entries, evicted by bytes, entries, bytes, kept...} (one
# kept flag per pair).
PUT = (
    "local prefix = ARGV[1]\n"
    + _DROP
    + """
local ttl, max_entries, max_bytes = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl, 'LIMIT', 0, 1000)) do
  drop(m)
  expired = expired + 1
end
local by_entries, by_bytes = 0, 0
local kept = {}
for i = 5, #ARGV, 2 do
  local member, blob = ARGV[i], ARGV[i + 1]
  if redis.call('ZSCORE', KEYS[1], member) then drop(member) end
  local size = string.len(blob)
  if size > max_bytes then
    table.insert(kept, 0)
  else
    redis.call('SET', prefix .. member, blob, 'PX', ttl)
    -- the batch's order within the millisecond: a fraction of it per put
    redis.call('ZADD', KEYS[1], now + (i - 5) / 2048, member)
    redis.call('HSET', KEYS[2], member, size)
    redis.call('INCRBY', KEYS[3], size)
    local function oldest()
      local two = redis.call('ZRANGE', KEYS[1], 0, 1)
      if two[1] == member then return two[2] end
      return two[1]
    end
    while redis.call('ZCARD', KEYS[1]) > max_entries do
      drop(oldest())
      by_entries = by_entries + 1
    end
    while total() > max_bytes do
      drop(oldest())
      by_bytes = by_bytes + 1
    end
    table.insert(kept, 1)
  end
end
local out = {expired, by_entries, by_bytes, redis.call('ZCARD', KEYS[1]), total()}
for _, k in ipairs(kept) do table.insert(out, k) end
return out
"""
)

# KEYS: order, sizes, bytes. ARGV: entry prefix, member.
# Returns {deleted (the entry was there), entries, bytes}.
DELETE = (
    "local prefix = ARGV[1]\n"
    + _DROP
    + """
local found = redis.call('EXISTS', prefix .. ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then drop(ARGV[2]) end
return {found, redis.call('ZCARD', KEYS[1]), total()}
"""
)

# ARGV: entry prefix, tenant key, response id, max depth. Returns {state, id, blob...}:
# state 0: `id` is missing; 1: the whole chain; 2: deeper than max depth (`id` is next).
# The blobs are the newest first.
CHAIN = """
local prefix, tenant, id = ARGV[1], ARGV[2], ARGV[3]
local depth = tonumber(ARGV[4])
local out = {0, id}
for _ = 1, depth do
  local blob = redis.call('GET', prefix .. tenant .. ':' .. id)
  if not blob then
    out[2] = id
    return out
  end
  table.insert(out, blob)
  local newline = string.find(blob, '\\n', 1, true)
  local previous = string.sub(blob, 1, newline - 1)
  if previous == '' then
    out[1] = 1
    return out
  end
  id = previous
end
out[1] = 2
out[2] = id
return out
"""

# KEYS: order, bytes. Returns {entries, bytes}.
USAGE = """
return {redis.call('ZCARD', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
"""
