"""Tool-output sessions below the route (frontend/sessions.py, store/tool_session.py): the
store's one-time claims and session entries on both backends, the lazy tool timeout, the
continuation's assembler, and the conversation a continued turn contributes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from frontend import history, sessions
from frontend.store import MemoryStore, ResponseStore, StoredResponse
from frontend.store.redis import RedisStore
from frontend.store.tool_session import ToolSession
from inference.protocol import ChatMessage, Delta, Final, FinishReason, Role, ToolCallDelta
from tests.frontend.scripted import usage
from tests.redis_server import RedisServer

CALL = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_1",
    "name": "f",
    "arguments": "{}",
    "status": "completed",
}
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Done.", "annotations": [], "logprobs": []}],
}


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis_server: RedisServer) -> AsyncIterator[Any]:
    s: ResponseStore
    if request.param == "memory":
        s = MemoryStore(max_entries=100, ttl=60)
    else:
        s = RedisStore(redis_server.fresh_url(), max_entries=100, max_bytes=1 << 30, ttl=60)
    yield s
    await s.close()


def response(output: list[dict[str, Any]], status: str = "completed") -> dict[str, Any]:
    return {
        "id": "resp_1",
        "status": status,
        "output": output,
        "usage": {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 1, "cache_write_tokens": 0},
            "output_tokens": 3,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 8,
        },
    }


def waiting_entry(since: float) -> StoredResponse:
    session = ToolSession(request={"model": "m"}, sequence=9, waiting_since=since)
    return StoredResponse(
        response=sessions.waiting_view(response([CALL]), [CALL]),
        messages=[ChatMessage(role=Role.USER, content="hi")],
        session=session,
    )


async def test_a_claim_is_taken_once_per_tenant_until_released(store: Any) -> None:
    assert await store.claim("t", "resp_1:tool_outputs:0", 60) is True
    assert await store.claim("t", "resp_1:tool_outputs:0", 60) is False
    assert await store.claim("other", "resp_1:tool_outputs:0", 60) is True  # its own names
    assert await store.claim("t", "resp_1:tool_outputs:1", 60) is True
    await store.release("t", "resp_1:tool_outputs:0")
    assert await store.claim("t", "resp_1:tool_outputs:0", 60) is True


async def test_a_claim_expires(store: Any) -> None:
    assert await store.claim("t", "name", 0.05)
    time.sleep(0.1)
    assert await store.claim("t", "name", 60)


async def test_a_session_survives_both_backends(store: Any) -> None:
    entry = waiting_entry(1234.5)
    assert await store.put("t", entry)
    assert await store.get("t", "resp_1") == entry
    [found] = (await store.chain("t", "resp_1", 10)).entries
    assert found.session == entry.session


async def test_settle_fails_a_response_that_waited_too_long() -> None:
    store = MemoryStore(max_entries=10, ttl=60)
    fresh = waiting_entry(time.time())
    assert await sessions.settle(store, "t", fresh, 30) is fresh
    old = waiting_entry(time.time() - 31)
    assert await sessions.settle(store, "t", old, 0) is old  # 0: no timeout
    failed = await sessions.settle(store, "t", old, 30)
    assert failed.response["status"] == "failed" and "required_action" not in failed.response
    assert failed.response["error"]["code"] == sessions.TIMEOUT_CODE
    assert failed.session is not None and failed.session.waiting_since is None
    assert await store.get("t", "resp_1") == failed  # stored, so every worker sees it
    assert sessions.pending(failed) == []
    with pytest.raises(Exception, match="expired"):
        sessions.waiting_calls(failed)


def test_pending_calls_are_the_latest_rounds() -> None:
    entry = waiting_entry(time.time())
    assert sessions.pending(entry) == [CALL]
    later = dict(CALL, id="fc_2", call_id="call_2")
    entry.response["output"] = [CALL, MESSAGE, later]
    assert entry.session is not None
    entry.session.round_start = 2
    assert sessions.pending(entry) == [later]


def test_the_continuation_assembler_goes_on_where_the_response_stopped() -> None:
    kept = sessions.resumed(sessions.waiting_view(response([CALL]), [CALL]))
    assert kept["status"] == "in_progress" and "required_action" not in kept
    assembler = sessions.ContinuationAssembler(kept, sequence=9)
    [started] = assembler.start()
    assert (started["type"], started["sequence_number"]) == ("response.in_progress", 9)
    events = assembler.consume(
        [
            Delta(text="Done."),
            Final(finish_reason=FinishReason.STOP, usage=usage(prompt=7, completion=2)),
        ]
    )
    assert [e["sequence_number"] for e in events] == list(range(10, 10 + len(events)))
    assert events[0]["output_index"] == 1
    final = events[-1]["response"]
    assert final["status"] == "completed" and len(final["output"]) == 2
    assert final["usage"]["input_tokens"] == 12 and final["usage"]["output_tokens"] == 5
    assert final["usage"]["total_tokens"] == 17
    assert final["usage"]["input_tokens_details"]["cached_tokens"] == 1
    assert assembler.round_usage is not None and assembler.round_usage["input_tokens"] == 7


def test_a_continuation_ending_in_calls_lists_only_the_new_ones() -> None:
    kept = sessions.resumed(response([CALL]))
    assembler = sessions.ContinuationAssembler(kept, sequence=3)
    assembler.start()
    new_call = ToolCallDelta(index=0, id="call_2", name="g", arguments="{}")
    assembler.consume(
        [Delta(tool_calls=[new_call]), Final(finish_reason=FinishReason.TOOL_CALLS, usage=usage())]
    )
    calls = sessions.calls_of(assembler.response["output"][1:])
    view = sessions.waiting_view(assembler.response, calls)
    listed = view["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert [c["call_id"] for c in listed] == ["call_2"]


async def test_a_continued_turn_contributes_its_rounds_in_order() -> None:
    store = MemoryStore(max_entries=10, ttl=60)
    turn = [
        ChatMessage(role=Role.USER, content="hi"),
        ChatMessage(role=Role.ASSISTANT, content=None),
        ChatMessage(role=Role.TOOL, content="sun", tool_call_id="call_1"),
    ]
    entry = StoredResponse(
        response=response([CALL, MESSAGE]),
        messages=turn,
        session=ToolSession(request={"model": "m"}, round_start=1, rounds=1),
    )
    await store.put("t", entry)
    messages = await history.conversation(store, "t", "resp_1")
    assert [(m.role, m.content) for m in messages] == [
        (Role.USER, "hi"),
        (Role.ASSISTANT, None),
        (Role.TOOL, "sun"),
        (Role.ASSISTANT, "Done."),
    ]
    assert not messages[3].tool_calls


def test_a_running_continuation_refuses_outputs() -> None:
    """While a continuation runs, the stored response is in progress (not waiting): a second
    submission from any worker is 409, as a submission another worker claimed is."""
    entry = waiting_entry(time.time())
    running = StoredResponse(
        response=sessions.resumed(entry.response),
        session=ToolSession(request={"model": "m"}, rounds=1),
    )
    with pytest.raises(Exception, match="submitted and it is running") as raised:
        sessions.waiting_calls(running)
    assert getattr(raised.value, "status", None) == 409
