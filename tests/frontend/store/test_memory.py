"""MemoryStore with an injected clock: TTL, the size cap, tenant isolation. No sleeping."""

from __future__ import annotations

import time

from frontend.store import MemoryStore, StoredResponse
from inference.protocol import ChatMessage, Role


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def entry(response_id: str, text: str = "hi") -> StoredResponse:
    return StoredResponse(
        response={"id": response_id, "object": "response", "status": "completed"},
        conversation=[ChatMessage(role=Role.USER, content=text)],
    )


def store(max_entries: int = 10, ttl: float = 60.0, clock: Clock | None = None) -> MemoryStore:
    return MemoryStore(max_entries=max_entries, ttl=ttl, clock=clock or Clock())


async def test_put_then_get_returns_the_entry() -> None:
    s = store()
    stored = entry("resp_1", "hello")
    await s.put("t", stored)
    assert await s.get("t", "resp_1") is stored
    assert await s.get("t", "resp_2") is None
    assert len(s) == 1


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
    assert len(s) == 0  # an expired entry found is dropped
    clock.now -= 1000  # and never comes back
    assert await s.get("t", "resp_1") is None


async def test_putting_again_renews_the_ttl() -> None:
    clock = Clock()
    s = store(ttl=10, clock=clock)
    await s.put("t", entry("resp_1", "old"))
    clock.now += 8
    await s.put("t", entry("resp_1", "new"))
    clock.now += 8
    found = await s.get("t", "resp_1")
    assert found is not None
    assert found.conversation[0].content == "new"
    assert len(s) == 1


async def test_the_cap_evicts_the_oldest() -> None:
    s = store(max_entries=3)
    for n in range(5):
        await s.put("t", entry(f"resp_{n}"))
    assert len(s) == 3
    assert [await s.get("t", f"resp_{n}") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


async def test_reading_an_entry_makes_it_the_newest() -> None:
    s = store(max_entries=2)
    await s.put("t", entry("resp_a"))
    await s.put("t", entry("resp_b"))
    assert await s.get("t", "resp_a") is not None
    await s.put("t", entry("resp_c"))
    assert await s.get("t", "resp_b") is None
    assert await s.get("t", "resp_a") is not None
    assert await s.get("t", "resp_c") is not None


async def test_tenants_do_not_see_each_other() -> None:
    s = store()
    await s.put("alice", entry("resp_1", "alice's"))
    assert await s.get("bob", "resp_1") is None
    assert await s.delete("bob", "resp_1") is False
    found = await s.get("alice", "resp_1")
    assert found is not None and found.conversation[0].content == "alice's"


async def test_the_same_id_under_two_tenants_is_two_entries() -> None:
    s = store()
    await s.put("alice", entry("resp_1", "a"))
    await s.put("bob", entry("resp_1", "b"))
    assert len(s) == 2
    assert await s.delete("alice", "resp_1") is True
    found = await s.get("bob", "resp_1")
    assert found is not None and found.conversation[0].content == "b"


async def test_delete_removes_once() -> None:
    s = store()
    await s.put("t", entry("resp_1"))
    assert await s.delete("t", "resp_1") is True
    assert await s.get("t", "resp_1") is None
    assert await s.delete("t", "resp_1") is False
    assert await s.delete("t", "never") is False


async def test_an_expired_entry_cannot_be_deleted() -> None:
    clock = Clock()
    s = store(ttl=10, clock=clock)
    await s.put("t", entry("resp_1"))
    clock.now += 11
    assert await s.delete("t", "resp_1") is False


async def test_close_forgets_everything() -> None:
    s = store()
    await s.put("t", entry("resp_1"))
    await s.close()
    assert len(s) == 0
    assert await s.get("t", "resp_1") is None
