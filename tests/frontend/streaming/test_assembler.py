"""The assembler in-process: deltas in, events out, and each finish reason's outcome."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from frontend.openai.request import CreateResponse
from frontend.openai.response import skeleton
from frontend.streaming.assembler import (
    ENGINE_ERROR,
    OUTCOMES,
    REPETITION,
    ResponseAssembler,
)
from frontend.streaming.events import Event
from inference.protocol import (
    Delta,
    Final,
    FinishReason,
    TokenLogprob,
    ToolCallDelta,
    TopLogprob,
    Usage,
)
from tests import spec

USAGE = Usage(prompt_tokens=7, cached_tokens=2, completion_tokens=4, reasoning_tokens=1)


def assembler(seal: Callable[[str], str] | None = None, **body: Any) -> ResponseAssembler:
    request = CreateResponse.model_validate({"model": "m", "input": "hi", **body})
    counter = itertools.count()
    return ResponseAssembler(
        skeleton(request, response_id="resp_test", model="m"),
        logprobs=bool(request.include),
        make_id=lambda prefix: f"{prefix}_{next(counter)}",
        seal=seal,
    )


def run(a: ResponseAssembler, *batches: list[Delta | Final]) -> list[Event]:
    events = a.start()
    for batch in batches:
        events += a.consume(batch)
    return events


def check(events: list[Event], response: dict[str, Any]) -> None:
    """Every event and the whole sequence are valid; the last event carries the response."""
    for event in events:
        spec.validate_stream_event(event)
    spec.validate_event_sequence(events)
    spec.validate_response(response)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    final = events[-1]["response"]
    assert {k: v for k, v in final.items() if k != "output"} == {
        k: v for k, v in response.items() if k != "output"
    }
    assert final["output"] == response["output"]


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def stop(reason: FinishReason = FinishReason.STOP, error: str | None = None) -> Final:
    return Final(finish_reason=reason, usage=USAGE, error=error)


# --- text, reasoning, tool calls ---------------------------------------------------------


def test_a_text_reply_in_order() -> None:
    a = assembler()
    events = run(a, [Delta(text="Hel")], [Delta(text="lo"), Delta(text="!"), stop()])
    check(events, a.response)
    assert types(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[0]["response"]["output"] == []
    [message] = a.response["output"]
    assert message["id"] == "msg_0"
    assert message["status"] == "completed"
    assert message["content"][0]["text"] == "Hello!"
    assert events[7]["text"] == "Hello!"
    assert a.response["usage"] == {
        "input_tokens": 7,
        "input_tokens_details": {"cached_tokens": 2, "cache_write_tokens": 0},
        "output_tokens": 4,
        "output_tokens_details": {"reasoning_tokens": 1},
        "total_tokens": 11,
    }


def test_earlier_snapshots_are_not_changed_by_later_events() -> None:
    a = assembler()
    events = run(a, [Delta(text="Hi"), stop()])
    created = events[0]["response"]
    assert created["status"] == "in_progress"
    assert created["output"] == []
    assert created["completed_at"] is None
    assert created["usage"]["output_tokens"] == 0


def test_reasoning_then_text_are_two_items() -> None:
    a = assembler()
    events = run(
        a,
        [Delta(reasoning="Let me "), Delta(reasoning="think.")],
        [Delta(reasoning="So", text="Answer")],
        [stop()],
    )
    check(events, a.response)
    reasoning, message = a.response["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Let me think.So"}]
    assert (reasoning["status"], reasoning["summary"]) == ("completed", [])
    assert message["content"][0]["text"] == "Answer"
    assert (reasoning["id"], message["id"]) == ("rs_0", "msg_1")
    assert types(events).count("response.reasoning_text.delta") == 3
    assert "response.reasoning_text.done" in types(events)


def test_a_tool_call_streams_its_arguments() -> None:
    a = assembler()
    first = ToolCallDelta(index=0, id="call_abc", name="get_weather", arguments='{"city":')
    events = run(
        a,
        [Delta(tool_calls=[first])],
        [Delta(tool_calls=[ToolCallDelta(index=0, arguments=' "Paris"}')])],
        [stop(FinishReason.TOOL_CALLS)],
    )
    check(events, a.response)
    assert a.response["status"] == "completed"
    [call] = a.response["output"]
    assert call == {
        "id": "fc_0",
        "type": "function_call",
        "call_id": "call_abc",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
        "status": "completed",
    }
    assert types(events)[2:6] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
    ]


def test_text_then_parallel_calls_are_three_items() -> None:
    a = assembler()
    events = run(
        a,
        [Delta(text="Checking.")],
        [Delta(tool_calls=[ToolCallDelta(index=0, id="c0", name="f", arguments="{}")])],
        [Delta(tool_calls=[ToolCallDelta(index=1, id="c1", name="g", arguments='{"x":1}')])],
        [stop(FinishReason.TOOL_CALLS)],
    )
    check(events, a.response)
    output = a.response["output"]
    assert [item["type"] for item in output] == ["message", "function_call", "function_call"]
    assert [item.get("call_id") for item in output] == [None, "c0", "c1"]
    assert [e["output_index"] for e in events if e["type"] == "response.output_item.added"] == [
        0,
        1,
        2,
    ]


def test_a_call_without_an_id_gets_one() -> None:
    a = assembler()
    run(a, [Delta(tool_calls=[ToolCallDelta(index=0, name="f")]), stop(FinishReason.TOOL_CALLS)])
    [call] = a.response["output"]
    assert call["call_id"].startswith("call_")
    assert call["arguments"] == ""


def test_logprobs_only_when_asked() -> None:
    lp = TokenLogprob(
        token="Hi", logprob=-0.1, bytes=[72, 105], top_logprobs=[TopLogprob("Ho", -2.0)]
    )
    a = assembler(include=["message.output_text.logprobs"], top_logprobs=1)
    events = run(a, [Delta(text="Hi", logprobs=[lp]), stop()])
    check(events, a.response)
    expected = [
        {
            "token": "Hi",
            "logprob": -0.1,
            "bytes": [72, 105],
            "top_logprobs": [{"token": "Ho", "logprob": -2.0, "bytes": []}],
        }
    ]
    delta = next(e for e in events if e["type"] == "response.output_text.delta")
    assert delta["logprobs"] == expected
    assert a.response["output"][0]["content"][0]["logprobs"] == expected
    plain = assembler()
    run(plain, [Delta(text="Hi", logprobs=[lp]), stop()])
    assert plain.response["output"][0]["content"][0]["logprobs"] == []


# --- outcomes ----------------------------------------------------------------------------


def test_every_finish_reason_has_an_outcome() -> None:
    assert set(OUTCOMES) == set(FinishReason)


@pytest.mark.parametrize("reason", [FinishReason.STOP, FinishReason.TOOL_CALLS])
def test_stop_and_tool_calls_complete(reason: FinishReason) -> None:
    a = assembler()
    events = run(a, [Delta(text="ok"), stop(reason)])
    check(events, a.response)
    assert events[-1]["type"] == "response.completed"
    assert a.response["status"] == "completed"
    assert isinstance(a.response["completed_at"], int)
    assert a.response["completed_at"] >= a.response["created_at"]
    assert (a.response["error"], a.response["incomplete_details"]) == (None, None)
    assert a.finish_reason == reason
    assert a.done


def test_length_is_incomplete() -> None:
    a = assembler(max_output_tokens=2)
    events = run(a, [Delta(text="cut")], [stop(FinishReason.LENGTH)])
    check(events, a.response)
    assert events[-1]["type"] == "response.incomplete"
    assert a.response["status"] == "incomplete"
    assert a.response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert a.response["completed_at"] is None
    assert a.response["output"][0]["status"] == "incomplete"


def test_abort_is_cancelled() -> None:
    a = assembler()
    events = run(a, [Delta(text="par")], [stop(FinishReason.ABORT)])
    check(events, a.response)
    assert events[-1]["type"] == "response.failed"  # the spec has no response.cancelled
    assert a.response["status"] == "cancelled"
    assert a.response["completed_at"] is None
    assert a.done


@pytest.mark.parametrize(
    ("reason", "error", "message"),
    [
        (FinishReason.REPETITION, None, REPETITION),
        (FinishReason.REPETITION, "ignored detail", REPETITION),
        (FinishReason.ERROR, "CUDA out of memory", "CUDA out of memory"),
        (FinishReason.ERROR, None, ENGINE_ERROR),
    ],
)
def test_repetition_and_error_fail_with_an_error_object(
    reason: FinishReason, error: str | None, message: str
) -> None:
    a = assembler()
    events = run(a, [Delta(text="again again")], [stop(reason, error)])
    check(events, a.response)
    assert events[-1]["type"] == "response.failed"
    assert a.response["status"] == "failed"
    assert a.response["error"] == {"code": "server_error", "message": message}
    assert a.response["completed_at"] is None
    assert a.response["output"][0]["status"] == "incomplete"
    assert a.response["usage"]["output_tokens"] == USAGE.completion_tokens


def test_a_final_without_output_has_no_items() -> None:
    a = assembler()
    events = run(a, [stop()])
    check(events, a.response)
    assert types(events) == ["response.created", "response.in_progress", "response.completed"]
    assert a.response["output"] == []


def sealed(text: str) -> str:
    return f"sealed({text})"


def test_a_seal_puts_encrypted_content_on_done_reasoning_items_only() -> None:
    a = assembler(seal=sealed)
    events = run(a, [Delta(reasoning="Let me "), Delta(reasoning="think.")], [Delta(text="Hi")])
    events += a.consume([stop()])
    check(events, a.response)
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert all("encrypted_content" not in item for item in added)
    assert done[0]["encrypted_content"] == "sealed(Let me think.)"
    assert "encrypted_content" not in done[1]  # a message carries none
    assert a.response["output"][0] == done[0]  # the final response carries it too
    assert a.response["output"][0]["content"][0]["text"] == "Let me think."


def test_a_reasoning_item_cut_short_is_sealed_too() -> None:
    a = assembler(seal=sealed)
    events = run(a, [Delta(reasoning="hm")])
    events += a.fail("The sidecar went away.")
    check(events, a.response)
    [item] = a.response["output"]
    assert (item["status"], item["encrypted_content"]) == ("incomplete", "sealed(hm)")


def test_no_seal_no_encrypted_content() -> None:
    a = assembler()
    run(a, [Delta(reasoning="hm"), stop()])
    assert "encrypted_content" not in a.response["output"][0]


# --- fail, error, cancel -----------------------------------------------------------------


def test_fail_closes_the_open_item_as_incomplete() -> None:
    a = assembler()
    events = run(a, [Delta(reasoning="hm"), Delta(text="partial")])
    events += a.fail("The sidecar went away.")
    check(events, a.response)
    assert events[-1]["type"] == "response.failed"
    assert a.response["error"] == {"code": "server_error", "message": "The sidecar went away."}
    assert [item["status"] for item in a.response["output"]] == ["completed", "incomplete"]
    assert a.response["output"][1]["content"][0]["text"] == "partial"


def test_fail_before_any_output() -> None:
    a = assembler()
    events = a.start() + a.fail("gone", code="rate_limit_exceeded")
    check(events, a.response)
    assert a.response["error"] == {"code": "rate_limit_exceeded", "message": "gone"}


def test_error_is_an_error_event_then_failed() -> None:
    a = assembler()
    events = run(a, [Delta(text="x")]) + a.error("It broke.")
    check(events, a.response)
    error = next(e for e in events if e["type"] == "error")
    assert types(events)[-1] == "response.failed"
    assert types(events).index("error") < types(events).index("response.output_item.done")
    assert (error["message"], error["code"]) == ("It broke.", "server_error")
    assert a.response["error"] == {"code": "server_error", "message": "It broke."}


def test_fail_survives_a_broken_open_item() -> None:
    a = assembler()
    events = run(a, [Delta(text="x")])
    assert a.open is not None
    a.open.kind = "broken"  # _close cannot build this item's events
    events += a.fail("gone")
    assert events[-1]["type"] == "response.failed"
    assert a.response["status"] == "failed"
    assert a.open is None


def test_cancel_makes_no_events() -> None:
    a = assembler()
    run(a, [Delta(text="x")])
    a.cancel()
    assert a.response["status"] == "cancelled"
    assert a.open is None
    assert a.done
    spec.validate_response(a.response)


# --- first token -------------------------------------------------------------------------


def test_the_first_token_callback_fires_once_on_text() -> None:
    a = assembler()
    calls: list[int] = []
    a.on_first_token = lambda: calls.append(a.seq)
    a.start()
    a.consume([Delta(reasoning="thinking")])
    assert calls == []  # reasoning is not output
    a.consume([Delta(text="a"), Delta(text="b")])
    a.consume([Delta(text="c"), stop()])
    assert len(calls) == 1
    assert a.first_token


def test_the_first_token_callback_fires_on_a_tool_call() -> None:
    a = assembler()
    calls: list[None] = []
    a.on_first_token = lambda: calls.append(None)
    a.start()
    a.consume([Delta(tool_calls=[ToolCallDelta(index=0, id="c", name="f")])])
    a.consume([Delta(text="later"), stop()])
    assert calls == [None]


def test_no_first_token_without_output() -> None:
    a = assembler()
    calls: list[None] = []
    a.on_first_token = lambda: calls.append(None)
    run(a, [Delta(tokens=3)], [stop(FinishReason.LENGTH)])
    assert calls == []
