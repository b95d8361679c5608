"""The in-process response store: an LRU with a size cap and a TTL (one worker only).

Owns eviction for the single-worker case: the oldest entry goes when the cap is reached, and
an entry past its TTL is never returned.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from .base import StoredResponse


class MemoryStore:
    def __init__(
        self, *, max_entries: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self.clock = clock  # seconds, for the TTL; tests inject their own
        self._entries: OrderedDict[tuple[str, str], tuple[float, StoredResponse]] = OrderedDict()

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        key = (tenant, response_id)
        found = self._entries.get(key)
        if found is None:
            return None
        expires, entry = found
        if expires < self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    async def put(self, tenant: str, entry: StoredResponse) -> None:
        key = (tenant, entry.response["id"])
        self._entries[key] = (self.clock() + self.ttl, entry)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def delete(self, tenant: str, response_id: str) -> bool:
        found = self._entries.pop((tenant, response_id), None)
        return found is not None and found[0] >= self.clock()  # an expired one is gone already

    async def close(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
