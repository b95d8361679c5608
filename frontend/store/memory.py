"""The in-process response store: encoded entries in put order, with both caps and a TTL.

Owns the single-worker case (tests, `portico serve` with one worker): several workers each
holding their own would answer 404 for what another stored, so the app refuses to start
that way (application.py). Entries are kept encoded (codec.py): the byte count is the Redis
backend's, and no caller can change a stored entry through a reference it kept. The TTL is
the same for every entry, so put order is expiry order: expired entries are dropped from
the front at each put (and when found), and never returned.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from .. import metrics
from . import codec
from .base import BY_BYTES, BY_ENTRIES, EXPIRED, Chain, StoredResponse, Usage, tenant_key


class MemoryStore:
    def __init__(
        self,
        *,
        max_entries: int,
        ttl: float,
        max_bytes: int = 1 << 62,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.clock = clock  # seconds, for the TTL; tests inject their own
        # (tenant key, id) -> (expires at, encoded entry), oldest first
        self._entries: OrderedDict[tuple[str, str], tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._claims: dict[tuple[str, str], float] = {}  # (tenant key, name) -> expires at

    def _blob(self, tenant: str, response_id: str) -> bytes | None:
        key = (tenant_key(tenant), response_id)
        found = self._entries.get(key)
        if found is None:
            return None
        if found[0] <= self.clock():
            self._drop(key, EXPIRED)
            self._report()
            return None
        return found[1]

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        blob = self._blob(tenant, response_id)
        return None if blob is None else codec.decode(blob)

    async def put(self, tenant: str, entry: StoredResponse) -> bool:
        key = (tenant_key(tenant), entry.id)
        blob = codec.encode(entry)
        now = self.clock()
        while self._entries:
            oldest, (expires, _) = next(iter(self._entries.items()))
            if expires > now:
                break
            self._drop(oldest, EXPIRED)
        if key in self._entries:
            self._drop(key, None)
        kept = len(blob) <= self.max_bytes
        if kept:
            self._entries[key] = (now + self.ttl, blob)
            self._bytes += len(blob)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)), BY_ENTRIES)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)), BY_BYTES)
        self._report()
        return kept

    async def delete(self, tenant: str, response_id: str) -> bool:
        if self._blob(tenant, response_id) is None:
            return False
        self._drop((tenant_key(tenant), response_id), None)
        self._report()
        return True

    async def chain(self, tenant: str, response_id: str, max_depth: int) -> Chain:
        chain = Chain()
        wanted: str | None = response_id
        while wanted is not None:
            if len(chain.entries) == max_depth:
                chain.too_deep = True
                break
            blob = self._blob(tenant, wanted)
            if blob is None:
                chain.missing = wanted
                break
            entry = codec.decode(blob)
            chain.entries.append(entry)
            wanted = entry.previous_id
        chain.entries.reverse()
        return chain

    async def usage(self) -> Usage:
        return Usage(entries=len(self._entries), bytes=self._bytes)

    async def claim(self, tenant: str, name: str, ttl: float) -> bool:
        now = self.clock()
        self._claims = {k: t for k, t in self._claims.items() if t > now}
        key = (tenant_key(tenant), name)
        if key in self._claims:
            return False
        self._claims[key] = now + ttl
        return True

    async def release(self, tenant: str, name: str) -> None:
        self._claims.pop((tenant_key(tenant), name), None)

    async def close(self) -> None:
        self._claims.clear()
        self._entries.clear()
        self._bytes = 0

    def _drop(self, key: tuple[str, str], reason: str | None) -> None:
        _, blob = self._entries.pop(key)
        self._bytes -= len(blob)
        if reason is not None:
            metrics.STORE_EVICTIONS.labels(reason).inc()

    def _report(self) -> None:
        metrics.STORE_ENTRIES.set(len(self._entries))
        metrics.STORE_BYTES.set(self._bytes)

    def __len__(self) -> int:
        return len(self._entries)
