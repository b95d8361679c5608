"""The size cap on one SSE event (PORTICO_MAX_STREAM_EVENT_BYTES), in-process: a delta too
large for one event becomes several well-formed ones, cut on character boundaries, each
frame under the cap, numbered consecutively; `.done` events carry the whole text."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from frontend.extensions import StreamMode
from frontend.openai.request import CreateResponse
from frontend.openai.response import skeleton
from frontend.streaming import event_size, sse
from frontend.streaming.assembler import ResponseAssembler
from frontend.streaming.events import Event
from frontend.streaming.extension_events import ExtensionEvents
from inference.protocol import Delta, Final, FinishReason, TokenLogprob, ToolCallDelta, Usage
from tests import spec

CAP = 600
# ASCII, JSON escapes, 2-, 3- and 4-byte UTF-8, a control character: every cost there is
MIXED = 'plain "quoted" back\\slash\nnew é ü 日本語 😀🎉 \x01 \u2028 end. '
FINAL = Final(finish_reason=FinishReason.STOP, usage=Usage(prompt_tokens=3, completion_tokens=2))


def assembler(cap: int = CAP, **body: Any) -> ResponseAssembler:
    request = CreateResponse.model_validate({"model": "m", "input": "hi", **body})
    counter = itertools.count()
    return ResponseAssembler(
        skeleton(request, response_id="resp_cap", model="m"),
        logprobs=bool(request.include),
        make_id=lambda prefix: f"{prefix}_{next(counter)}",
        max_event_bytes=cap,
    )


def stream(a: ResponseAssembler, *batches: list[Delta | Final]) -> list[Event]:
    events = a.start()
    for batch in batches:
        events += a.consume(batch)
    return events


def frames(events: list[Event]) -> list[bytes]:
    return [f + b"\n\n" for f in sse.encode(events).split(b"\n\n")[:-1]]


def deltas(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["type"] == kind]


def check(
    events: list[Event], kind: str, whole: str, cap: int = CAP, *, both_specs: bool = True
) -> list[Event]:
    """Valid stream, consecutive numbers, every `kind` delta under the cap, text whole."""
    for event in events:
        spec.validate_openai_stream_event(event)
    if both_specs:  # (Open Responses has no custom tools)
        spec.validate_event_sequence(events)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    pieces = deltas(events, kind)
    assert len(pieces) > 1
    for piece, frame in zip(pieces, frames(pieces), strict=True):
        assert len(frame) <= cap, (len(frame), piece)
        assert piece["delta"]  # never an empty piece
        assert frame.decode("utf-8")  # whole characters only
        assert event_size.frame_size(piece) == len(frame)
    assert "".join(p["delta"] for p in pieces) == whole
    return pieces


@pytest.mark.parametrize("repeat", [1, 7, 40])
def test_pieces_are_whole_characters_under_the_cap(repeat: int) -> None:
    text = MIXED * repeat
    for cap in (90, 120, 333, 1000):
        parts = event_size.pieces(text, cap, 80, 60)
        assert "".join(parts) == text
        for i, part in enumerate(parts):
            size = len(json.dumps(part, ensure_ascii=False).encode()) - 2
            assert size + (80 if i == 0 else 60) <= cap or len(part) == 1
            part.encode("utf-8")  # no lone surrogate: never inside a character


def test_no_cap_or_a_small_text_is_one_piece() -> None:
    assert event_size.pieces(MIXED * 50, 0, 80, 60) == [MIXED * 50]
    assert event_size.pieces("short", 1000, 80, 60) == ["short"]


def test_a_cap_below_the_fixed_fields_still_sends_one_character_a_piece() -> None:
    assert event_size.pieces("abc", 10, 80, 60) == ["a", "b", "c"]


def test_a_long_text_delta_is_split_and_the_done_carries_it_whole() -> None:
    text = MIXED * 60
    a = assembler()
    events = stream(a, [Delta(text=text)], [Delta(text="tail")], [FINAL])
    pieces = check(events, "response.output_text.delta", text + "tail")
    assert pieces[-1]["delta"] == "tail"
    [done] = deltas(events, "response.output_text.done")
    assert done["text"] == text + "tail"
    assert a.response["output"][0]["content"][0]["text"] == text + "tail"


def test_logprobs_ride_on_the_first_piece() -> None:
    lps = [TokenLogprob(token="x", logprob=-0.5, bytes=[120], top_logprobs=[])]
    a = assembler(include=["message.output_text.logprobs"], top_logprobs=0)
    text = "y" * 3000
    events = stream(a, [Delta(text=text, logprobs=lps)], [FINAL])
    pieces = check(events, "response.output_text.delta", text)
    assert len(pieces[0]["logprobs"]) == 1
    assert all(p["logprobs"] == [] for p in pieces[1:])


def test_a_long_reasoning_delta_is_split() -> None:
    text = MIXED * 50
    events = stream(assembler(), [Delta(reasoning=text)], [Delta(text="ok")], [FINAL])
    check(events, "response.reasoning_text.delta", text)
    [done] = deltas(events, "response.reasoning_text.done")
    assert done["text"] == text


def test_long_function_arguments_are_split_and_tool_call_deltas_fit_too() -> None:
    arguments = json.dumps({"text": MIXED * 40}, ensure_ascii=False)
    a = assembler(tools=[{"type": "function", "name": "record_a_long_name", "parameters": {}}])
    call = ToolCallDelta(index=0, id="call_1", name="record_a_long_name", arguments=arguments)
    final = Final(finish_reason=FinishReason.TOOL_CALLS, usage=Usage())
    events = stream(a, [Delta(tool_calls=[call])], [final])
    check(events, "response.function_call_arguments.delta", arguments)
    [done] = deltas(events, "response.function_call_arguments.done")
    assert done["arguments"] == arguments
    # the native tool_call.delta beside each piece fits the cap as well
    native = ExtensionEvents(StreamMode(native=True, ping_interval=15))
    with_native = native.add(events)
    beside = deltas(with_native, "response.tool_call.delta")
    assert len(beside) == len(deltas(events, "response.function_call_arguments.delta"))
    assert all(len(f) <= CAP for f in frames(beside))
    assert "".join(e["delta"] for e in beside) == arguments
    spec.validate_event_sequence(with_native)


def test_a_long_custom_tool_input_is_split() -> None:
    tool = {"type": "custom", "name": "apply_patch", "description": "patch"}
    a = assembler(tools=[tool])
    patch = "*** Begin Patch\n" + MIXED * 40 + "\n*** End Patch"
    arguments = json.dumps({"input": patch})
    call = ToolCallDelta(index=0, id="call_2", name="apply_patch", arguments=arguments)
    events = stream(a, [Delta(tool_calls=[call])], [Final(FinishReason.TOOL_CALLS, Usage())])
    check(events, "response.custom_tool_call_input.delta", patch, both_specs=False)
    [done] = deltas(events, "response.custom_tool_call_input.done")
    assert done["input"] == patch


def test_small_deltas_are_left_alone() -> None:
    events = stream(assembler(), [Delta(text="Hello")], [FINAL])
    assert len(deltas(events, "response.output_text.delta")) == 1
