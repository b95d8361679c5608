"""The store contract (frontend/store/base.py), held by both backends: memory and a real Redis.

Isolation by tenant, both caps (oldest first), replacing an entry, deletion, the chain walk
(oldest first; a missing ancestor; a bounded depth), linear growth of a conversation, and
the metrics each operation reports.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from frontend.store import ResponseStore, StoredResponse, Usage
from frontend.store.codec import encode
from frontend.store.memory import MemoryStore
from frontend.store.redis import RedisStore
from tests.frontend.store.entries import entry
from tests.redis_server import RedisServer


def evictions(reason: str) -> float:
    return REGISTRY.get_sample_value("portico_store_evictions_total", {"reason": reason}) or 0.0


def gauge(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[Any]:
    """A factory of empty stores of one backend: make(max_entries=…, max_bytes=…, ttl=…)."""
    opened: list[ResponseStore] = []
    url = redis_server.fresh_url() if request.param == "redis" else ""

    def factory(max_entries: int = 100, max_bytes: int = 1 << 30, ttl: float = 60.0) -> Any:
        store: ResponseStore
        if request.param == "memory":
            store = MemoryStore(max_entries=max_entries, max_bytes=max_bytes, ttl=ttl)
        else:
            store = RedisStore(url, max_entries=max_entries, max_bytes=max_bytes, ttl=ttl)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


async def test_put_then_get_returns_an_equal_entry(make: Any) -> None:
    s: ResponseStore = make()
    stored = entry("resp_1", "hello")
    assert await s.put("t", stored) is True
    found = await s.get("t", "resp_1")
    assert found == stored and found is not stored
    assert await s.get("t", "resp_2") is None
    assert await s.usage() == Usage(entries=1, bytes=len(encode(stored)))
    assert gauge("portico_store_entries") == 1
    assert gauge("portico_store_bytes") == len(encode(stored))


async def test_tenants_do_not_see_each_other(make: Any) -> None:
    s: ResponseStore = make()
    await s.put("alice", entry("resp_1", "alice's"))
    assert await s.get("bob", "resp_1") is None
    assert await s.delete("bob", "resp_1") is False
    chain = await s.chain("bob", "resp_1", 10)
    assert (chain.entries, chain.missing) == ([], "resp_1")
    found = await s.get("alice", "resp_1")
    assert found is not None and found.messages[0].content == "alice's"


async def test_the_same_id_under_two_tenants_is_two_entries(make: Any) -> None:
    s: ResponseStore = make()
    await s.put("alice", entry("resp_1", "a"))
    await s.put("bob", entry("resp_1", "b"))
    assert (await s.usage()).entries == 2
    assert await s.delete("alice", "resp_1") is True
    found = await s.get("bob", "resp_1")
    assert found is not None and found.messages[0].content == "b"


async def test_delete_removes_once_and_frees_its_bytes(make: Any) -> None:
    s: ResponseStore = make()
    await s.put("t", entry("resp_1"))
    assert await s.delete("t", "resp_1") is True
    assert await s.get("t", "resp_1") is None
    assert await s.delete("t", "resp_1") is False
    assert await s.delete("t", "never") is False
    assert await s.usage() == Usage(0, 0)


async def test_putting_an_id_again_replaces_it(make: Any) -> None:
    s: ResponseStore = make()
    await s.put("t", entry("resp_1", "old"))
    new = entry("resp_1", "new, longer")
    await s.put("t", new)
    assert await s.get("t", "resp_1") == new
    assert await s.usage() == Usage(1, len(encode(new)))


async def test_the_entry_cap_evicts_the_oldest(make: Any) -> None:
    s: ResponseStore = make(max_entries=3)
    before = evictions("max_entries")
    for n in range(5):
        await s.put("t", entry(f"resp_{n}"))
        await s.get("t", "resp_0")  # reading does not make an entry newer
    assert [await s.get("t", f"resp_{n}") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert (await s.usage()).entries == 3
    assert evictions("max_entries") == before + 2


async def test_the_byte_cap_evicts_the_oldest(make: Any) -> None:
    size = len(encode(entry("resp_0")))
    s: ResponseStore = make(max_bytes=3 * size)
    before = evictions("max_bytes")
    for n in range(5):
        await s.put("t", entry(f"resp_{n}"))
    assert [await s.get("t", f"resp_{n}") is not None for n in range(5)] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert await s.usage() == Usage(3, 3 * size)
    assert evictions("max_bytes") == before + 2


async def test_an_entry_larger_than_the_byte_cap_is_not_kept(make: Any) -> None:
    s: ResponseStore = make(max_bytes=2000)
    await s.put("t", entry("resp_small"))
    assert await s.put("t", entry("resp_big", "x" * 5000)) is False
    assert await s.get("t", "resp_big") is None
    assert await s.get("t", "resp_small") is not None  # nothing was evicted for it


async def test_the_chain_is_walked_oldest_first(make: Any) -> None:
    s: ResponseStore = make()
    previous = None
    for n in range(4):
        await s.put("t", entry(f"resp_{n}", f"turn {n}", previous))
        previous = f"resp_{n}"
    chain = await s.chain("t", "resp_3", 10)
    assert (chain.missing, chain.too_deep) == (None, False)
    assert [e.id for e in chain.entries] == ["resp_0", "resp_1", "resp_2", "resp_3"]
    middle = await s.chain("t", "resp_1", 10)
    assert [e.id for e in middle.entries] == ["resp_0", "resp_1"]


async def test_a_missing_ancestor_is_named(make: Any) -> None:
    s: ResponseStore = make()
    await s.put("t", entry("resp_0"))
    await s.put("t", entry("resp_1", previous="resp_0"))
    await s.put("t", entry("resp_2", previous="resp_1"))
    await s.delete("t", "resp_1")
    chain = await s.chain("t", "resp_2", 10)
    assert chain.missing == "resp_1"
    assert (await s.chain("t", "resp_9", 10)).missing == "resp_9"


async def test_the_walk_stops_at_the_depth(make: Any) -> None:
    s: ResponseStore = make()
    previous = None
    for n in range(5):
        await s.put("t", entry(f"resp_{n}", previous=previous))
        previous = f"resp_{n}"
    deep = await s.chain("t", "resp_4", 3)
    assert deep.too_deep and deep.missing is None
    exact = await s.chain("t", "resp_4", 5)
    assert not exact.too_deep and len(exact.entries) == 5


async def test_a_conversation_grows_linearly(make: Any) -> None:
    """Each turn keeps only its own input and output: N turns cost N times one turn, not
    the N²/2 that a full copy of the conversation per turn would."""
    s: ResponseStore = make()
    sizes = []
    previous = None
    for n in range(40):
        await s.put("t", entry(f"resp_{n:02}", f"turn {n:02} " + "words " * 20, previous))
        previous = f"resp_{n:02}"
        sizes.append((await s.usage()).bytes)
    steps = [b - a for a, b in itertools.pairwise(sizes)]
    turn = steps[0]  # one continuing turn's bytes: every later turn costs the same
    assert all(abs(step - turn) <= 2 for step in steps), steps
    assert sizes[-1] <= 40 * turn
    chain = await s.chain("t", previous or "", 100)
    assert len(chain.entries) == 40


def test_entries_hold_one_turn() -> None:
    e: StoredResponse = entry("resp_1", "hi", previous="resp_0")
    assert e.previous_id == "resp_0" and e.id == "resp_1"
