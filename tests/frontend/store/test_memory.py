"""MemoryStore with an injected clock: the TTL, counted from the put. No sleeping.

What both backends share (caps, tenants, chains) is tested in test_base.py.
"""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from frontend.store import MemoryStore
from tests.frontend.store.entries import entry


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def store(max_entries: int = 10, ttl: float = 60.0, clock: Clock | None = None) -> MemoryStore:
    return MemoryStore(max_entries=max_entries, ttl=ttl, clock=clock or Clock())


def expired() -> float:
    return REGISTRY.get_sample_value("portico_store_evictions_total", {"reason": "expired"}) or 0


async def test_the_default_clock_is_monotonic() -> None:
    assert MemoryStore(max_entries=1, ttl=1).clock is time.monotonic


async def test_an_entry_lives_for_its_ttl_and_not_after() -> None:
    clock = Clock()
    s = store(ttl=60, clock=clock)
    await s.put("t", entry("resp_1"))
    clock.now += 59.9
    assert await s.get("t", "resp_1") is not None
    clock.now += 60.0  # past the TTL counted from the put, not from the last read
    assert await s.get("t", "resp_1") is None
    assert (await s.chain("t", "resp_1", 5)).missing == "resp_1"
    clock.now -= 1000  # and never comes back
    assert await s.get("t", "resp_1") is None


async def test_expired_entries_are_dropped_at_the_next_put() -> None:
    clock = Clock()
    s = store(ttl=10, clock=clock)
    before = expired()
    await s.put("t", entry("resp_1"))
    await s.put("t", entry("resp_2"))
    clock.now += 11
    await s.put("t", entry("resp_3"))
    assert len(s) == 1
    assert expired() == before + 2


async def test_putting_again_renews_the_ttl() -> None:
    clock = Clock()
    s = store(ttl=10, clock=clock)
    await s.put("t", entry("resp_1", "old"))
    clock.now += 8
    await s.put("t", entry("resp_1", "new"))
    clock.now += 8
    found = await s.get("t", "resp_1")
    assert found is not None
    assert found.messages[0].content == "new"
    assert len(s) == 1


async def test_an_expired_entry_cannot_be_deleted() -> None:
    clock = Clock()
    s = store(ttl=10, clock=clock)
    await s.put("t", entry("resp_1"))
    clock.now += 11
    assert await s.delete("t", "resp_1") is False
    assert len(s) == 0


async def test_close_forgets_everything() -> None:
    s = store()
    await s.put("t", entry("resp_1"))
    await s.close()
    assert len(s) == 0
    assert await s.get("t", "resp_1") is None
