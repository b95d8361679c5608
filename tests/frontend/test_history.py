"""frontend/history.py: a conversation rebuilt from its stored chain, and its refusals."""

from __future__ import annotations

import pytest

from frontend import history
from frontend.errors import InvalidRequest, NotFound
from frontend.store import MemoryStore
from inference.protocol import Role
from tests.frontend.store.entries import entry


async def chain_of(turns: int) -> MemoryStore:
    store = MemoryStore(max_entries=100, ttl=60)
    previous = None
    for n in range(turns):
        await store.put("t", entry(f"resp_{n}", f"q{n}", previous))
        previous = f"resp_{n}"
    return store


async def test_each_turn_is_its_input_then_its_output() -> None:
    store = await chain_of(3)
    messages = await history.conversation(store, "t", "resp_2")
    assert [(m.role, m.content) for m in messages] == [
        (Role.USER, "q0"),
        (Role.ASSISTANT, "re: q0"),
        (Role.USER, "q1"),
        (Role.ASSISTANT, "re: q1"),
        (Role.USER, "q2"),
        (Role.ASSISTANT, "re: q2"),
    ]
    assert await history.conversation(store, "t", None) == []


async def test_a_chain_deeper_than_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    store = await chain_of(4)
    monkeypatch.setattr(history, "MAX_CHAIN_DEPTH", 3)
    with pytest.raises(InvalidRequest) as refused:
        await history.conversation(store, "t", "resp_3")
    assert refused.value.param == "previous_response_id"
    assert len(await history.conversation(store, "t", "resp_2")) == 6


async def test_a_missing_turn_or_another_tenant_is_not_found() -> None:
    store = await chain_of(2)
    for tenant, asked in (("other", "resp_1"), ("t", "resp_9")):
        with pytest.raises(NotFound) as missing:
            await history.conversation(store, tenant, asked)
        assert missing.value.code == "previous_response_not_found"
    with pytest.raises(NotFound):
        await history.conversation(None, "t", "resp_1")
