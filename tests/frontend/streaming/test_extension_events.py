"""Native extension events, in-process: which follows which standard event, their numbers,
and none of them in compatibility mode."""

from __future__ import annotations

import itertools
from typing import Any

from frontend.extensions import EXTENSION_EVENTS, LEGACY_NAMES, StreamMode
from frontend.openai.request import CreateResponse
from frontend.openai.response import skeleton
from frontend.streaming import events as ev
from frontend.streaming import sse
from frontend.streaming.assembler import ResponseAssembler
from frontend.streaming.events import Event
from frontend.streaming.extension_events import ExtensionEvents
from inference.protocol import Delta, Final, FinishReason, ToolCallDelta, Usage
from tests import spec
from tests.spec.extension_events import standard_events

LIMITS = ({"name": "requests", "limit": 60, "remaining": 59, "reset_seconds": 1.0},)
NATIVE = StreamMode(native=True, ping_interval=15)
COMPAT = StreamMode(native=False, ping_interval=15)


def assembler(**body: Any) -> ResponseAssembler:
    request = CreateResponse.model_validate({"model": "m", "input": "hi", **body})
    counter = itertools.count()
    return ResponseAssembler(
        skeleton(request, response_id="resp_x", model="m"),
        make_id=lambda prefix: f"{prefix}_{next(counter)}",
    )


def tool_stream() -> list[Event]:
    a = assembler(tools=[{"type": "function", "name": "get_weather", "parameters": {}}])
    events = a.start()
    events += a.consume([Delta(reasoning="think")])
    first = ToolCallDelta(index=0, id="call_abc", name="get_weather", arguments='{"city":')
    events += a.consume([Delta(tool_calls=[first])])
    events += a.consume([Delta(tool_calls=[ToolCallDelta(index=0, arguments=' "Paris"}')])])
    events += a.consume([Final(FinishReason.TOOL_CALLS, Usage())])
    return events


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def test_compatibility_mode_adds_nothing() -> None:
    events = tool_stream()
    extras = ExtensionEvents(StreamMode(False, 15, aliases=True, rate_limits=LIMITS))
    assert extras.add(list(events)) == events
    assert extras.ping() == []
    assert sse.idle_frame(extras) == sse.KEEPALIVE


def test_a_tool_call_delta_beside_each_arguments_delta() -> None:
    events = tool_stream()
    out = ExtensionEvents(NATIVE).add(events)
    spec.validate_event_sequence(out)
    assert standard_events(out) == events  # the standard events untouched, in order
    pairs = [(e, out[i + 1]) for i, e in enumerate(out) if e["type"].endswith("arguments.delta")]
    assert len(pairs) == 2
    for standard, native in pairs:
        assert native == {
            "type": "response.tool_call.delta",
            "sequence_number": standard["sequence_number"],
            "item_id": standard["item_id"],
            "output_index": standard["output_index"],
            "call_id": "call_abc",
            "name": "get_weather",
            "delta": standard["delta"],
        }


def test_rate_limits_right_after_created_and_additional_context_for_omitted_tools() -> None:
    a = assembler(tools=[{"type": "web_search"}])
    events = a.start() + a.consume([Delta(text="hi"), Final(FinishReason.STOP, Usage())])
    out = ExtensionEvents(StreamMode(True, 15, rate_limits=LIMITS)).add(events)
    spec.validate_event_sequence(out)
    assert types(out)[:4] == [
        "response.created",
        "response.rate_limits.updated",
        "response.additional_context",
        "response.in_progress",
    ]
    assert out[1] == {
        "type": "response.rate_limits.updated",
        "sequence_number": 0,
        "rate_limits": [dict(LIMITS[0])],
    }
    assert out[2]["context"] == {"omitted_tools": ["web_search"]}
    plain = ExtensionEvents(NATIVE).add(assembler().start())
    assert types(plain) == ["response.created", "response.in_progress"]


def test_response_error_beside_error_and_failed_once() -> None:
    a = assembler()
    events = a.start() + a.consume([Delta(text="x")]) + a.error("boom")
    out = ExtensionEvents(NATIVE).add(events)
    spec.validate_event_sequence(out)
    errors = [e for e in out if e["type"] == "response.error"]
    assert len(errors) == 1
    at = out.index(errors[0])
    assert out[at - 1]["type"] == "error"
    assert errors[0]["error"] == {
        "type": "server_error",
        "code": "server_error",
        "message": "boom",
        "param": None,
    }


def test_response_error_before_a_failed_response_without_an_error_event() -> None:
    a = assembler()
    final = Final(FinishReason.ERROR, Usage(), error="engine broke")
    out = ExtensionEvents(NATIVE).add(a.start() + a.consume([final]))
    spec.validate_event_sequence(out)
    assert types(out)[-2:] == ["response.error", "response.failed"]  # the terminal one last
    assert out[-2]["error"]["message"] == "engine broke"
    assert out[-2]["sequence_number"] == out[-3]["sequence_number"]


def test_a_cancelled_response_has_no_response_error() -> None:
    a = assembler()
    out = ExtensionEvents(NATIVE).add(a.start() + a.consume([Final(FinishReason.ABORT, Usage())]))
    assert "response.error" not in types(out)


def test_legacy_aliases_beside_the_current_events_on_request_only() -> None:
    events = tool_stream()
    out = ExtensionEvents(StreamMode(True, 15, aliases=True)).add(events)
    spec.validate_event_sequence(out)
    for current, legacy in LEGACY_NAMES.items():
        at = types(out).index(current)
        assert out[at + 1] == dict(out[at], type=legacy)
    assert not set(LEGACY_NAMES.values()) & set(types(ExtensionEvents(NATIVE).add(events)))


def test_pings_repeat_the_last_number_and_do_not_move_it() -> None:
    extras = ExtensionEvents(NATIVE)
    assert extras.ping() == [ev.ping(0)]  # before anything
    events = assembler().start()
    extras.add(events)
    assert extras.ping() == [{"type": "response.ping", "sequence_number": 1}]
    frame = sse.idle_frame(extras)
    assert frame.startswith(b"event: response.ping\ndata: ")
    assert standard_events([*events, *extras.ping()]) == events


def test_a_resumed_stream_learns_the_calls_before_its_point() -> None:
    events = tool_stream()
    cut = next(i for i, e in enumerate(events) if e["type"].endswith("arguments.delta"))
    extras = ExtensionEvents(NATIVE)
    extras.learn(events[:cut])
    out = extras.add(events[cut:])
    assert [e["call_id"] for e in out if e["type"] == "response.tool_call.delta"] == [
        "call_abc",
        "call_abc",
    ]


def test_every_extension_event_is_named_in_extensions() -> None:
    built = [
        ev.ping(0),
        ev.rate_limits_updated(0, []),
        ev.additional_context(0, []),
        ev.tool_call_delta(0, "fc", 0, "c", "n", ""),
        ev.response_error(0, {}),
    ]
    assert sorted(e["type"] for e in built) == sorted(EXTENSION_EVENTS)
    for event in built:
        spec.validate_stream_event(event)
