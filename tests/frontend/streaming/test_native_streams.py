"""Native extension events and the event size cap on a running Portico (fake sidecar), over
raw HTTP and through the openai SDK; and their absence in compatibility mode."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai
import pytest

from frontend.config import BY_NAME
from frontend.extensions import EXTENSION_EVENTS, LEGACY_NAMES
from tests import spec
from tests.spec.extension_events import standard_events
from tests.stack import Stack

MODEL = "fake-model"
CAP = 700
PING = "0.3"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
LONG = "Ünïcødé😀-" * 500  # one "word" of the fake's echo: one delta of ~6 KB


@dataclass
class Frames:
    status: int
    frames: list[bytes] = field(default_factory=list)  # each with its blank line
    events: list[dict[str, Any]] = field(default_factory=list)
    comments: int = 0
    done: bool = False

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]


def read(method: str, url: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Frames:
    with httpx.stream(method, url, json=body, timeout=60, **kwargs) as response:
        out = Frames(response.status_code)
        data = b"".join(response.iter_raw())
    for frame in data.split(b"\n\n")[:-1]:
        out.frames.append(frame + b"\n\n")
        if frame.startswith(b":"):
            out.comments += 1
        elif frame == b"data: [DONE]":
            out.done = True
        else:
            out.events.append(json.loads(frame.split(b"\ndata: ", 1)[1]))
    return out


def _stack(*args: str, compat: bool = False) -> Iterator[Stack]:
    stack = Stack("--fake", "--responses-ping-interval-seconds", PING, *args, compat=compat)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def native() -> Iterator[Stack]:
    yield from _stack("--fake-reasoning", "--max-stream-event-bytes", str(CAP))


@pytest.fixture(scope="module")
def compat() -> Iterator[Stack]:
    yield from _stack("--fake-reasoning", compat=True)


def create(stack: Stack, headers: dict[str, str] | None = None, **body: Any) -> Frames:
    body = {"model": MODEL, "stream": True, **body}
    return read("POST", stack.url("/v1/responses"), body, headers=headers)


def tool_request() -> dict[str, Any]:
    return {"input": "weather in Paris?", "tools": [TOOL], "tool_choice": "required"}


def test_native_streams_carry_tool_call_deltas_and_done(native: Stack) -> None:
    got = create(native, **tool_request())
    assert got.status == 200 and got.done
    spec.validate_event_sequence(got.events)  # extension events checked, standard ones too
    types = got.types()
    assert types.count("response.tool_call.delta") == types.count(
        "response.function_call_arguments.delta"
    )
    calls = [e for e in got.events if e["type"] == "response.tool_call.delta"]
    added = next(
        e["item"]
        for e in got.events
        if e["type"] == "response.output_item.added" and e["item"]["type"] == "function_call"
    )
    assert {(e["call_id"], e["name"], e["item_id"]) for e in calls} == {
        (added["call_id"], "get_weather", added["id"])
    }
    done = next(e for e in got.events if e["type"] == "response.function_call_arguments.done")
    assert "".join(e["delta"] for e in calls) == done["arguments"]


def test_compatibility_mode_has_only_openai_events_comments_and_no_done(compat: Stack) -> None:
    got = create(compat, **tool_request())
    assert got.status == 200 and not got.done
    assert not set(got.types()) & set(EXTENSION_EVENTS)
    for event in got.events:
        spec.validate_stream_event(event)
    spec.validate_event_sequence(got.events)
    slow = create(compat, input="fake:delay=1.0", max_output_tokens=4)
    assert slow.comments >= 1  # keep-alives are SSE comments
    assert not set(slow.types()) & set(EXTENSION_EVENTS)
    aliased = create(compat, input="hi", headers={"X-Portico-Event-Aliases": "legacy"})
    assert not set(aliased.types()) & set(LEGACY_NAMES.values())


def test_native_pings_are_events_that_keep_the_numbering(native: Stack) -> None:
    got = create(native, input="fake:delay=1.0", max_output_tokens=4)
    assert got.comments == 0
    pings = [i for i, e in enumerate(got.events) if e["type"] == "response.ping"]
    assert pings
    for i in pings:  # a ping repeats the number of the event before it
        assert got.events[i]["sequence_number"] == got.events[i - 1]["sequence_number"]
    standard = standard_events(got.events)
    assert [e["sequence_number"] for e in standard] == list(range(len(standard)))
    spec.validate_event_sequence(got.events)


@pytest.fixture(scope="module")
def pinging() -> Iterator[Stack]:
    stack = Stack("--fake", "--responses-ping-interval-seconds", "1.0").start()
    yield stack
    stack.stop()


def test_a_ping_comes_after_each_interval_of_silence(pinging: Stack) -> None:
    """--responses-ping-interval-seconds is the longest silence: a token every 1.5 s with a
    1 s interval gets a ping 1 s after each token, not on a fixed 1 s grid (which left up to
    two intervals of silence: a proxy's idle timeout of 1.5 intervals cut the stream)."""
    body = {"model": MODEL, "input": "fake:delay=1.5", "max_output_tokens": 3, "stream": True}
    arrivals: list[tuple[float, str]] = []
    with httpx.stream("POST", pinging.url("/v1/responses"), json=body, timeout=60) as reply:
        for line in reply.iter_lines():
            if line.startswith("event: "):
                arrivals.append((time.monotonic(), line[len("event: ") :]))
    assert arrivals[-1][1] == "response.incomplete"
    assert sum(kind == "response.ping" for _, kind in arrivals) >= 3
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(arrivals)]
    assert max(gaps) < 1.3, gaps  # the interval and scheduling slack; a grid gives ~1.5


def test_legacy_aliases_on_request(native: Stack) -> None:
    plain = create(native, input="hi")
    assert not set(plain.types()) & set(LEGACY_NAMES.values())
    got = create(native, input="hi", headers={"X-Portico-Event-Aliases": "legacy"})
    spec.validate_event_sequence(got.events)
    for current, legacy in LEGACY_NAMES.items():
        at = got.types().index(current)
        assert got.events[at + 1] == dict(got.events[at], type=legacy)


def test_the_sdk_streams_with_extension_events_present(native: Stack) -> None:
    client = native.openai()
    seen = []
    with client.responses.create(
        model=MODEL, input="fake:delay=1.0", max_output_tokens=3, stream=True
    ) as events:
        seen = [e.type for e in events]
    assert "response.ping" in seen and seen[-1] == "response.incomplete"  # (3 tokens)
    with client.responses.stream(model=MODEL, **tool_request()) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.tool_call.delta" in kinds
    call = next(o for o in final.output if o.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments)


def test_a_failed_stream_reaches_the_sdk_as_response_error_or_response_failed(
    native: Stack, compat: Stack
) -> None:
    """The guide's "handle response.error": the openai Python SDK raises APIError, with the
    failure's message, on an event carrying a top-level `error` object, i.e. on native mode's
    `response.error` (before `response.failed`); compatibility mode has no such event, and the
    SDK yields `response.failed` as it would from OpenAI."""
    failing = native.openai().responses.create(model=MODEL, input="fake:raise", stream=True)
    with pytest.raises(openai.APIError, match="the fake engine broke") as caught, failing as s:
        for _ in s:
            pass
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "server_error"
    with compat.openai().responses.create(model=MODEL, input="fake:raise", stream=True) as s:
        kinds = [event.type for event in s]
    assert kinds[-1] == "response.failed" and "response.error" not in kinds


def _echo(**body: Any) -> dict[str, Any]:
    return {
        "input": [
            {"role": "user", "content": "fake:echo"},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": LONG},
        ],
        "tools": [TOOL],
        **body,
    }


def _check_cut(got: Frames) -> list[dict[str, Any]]:
    spec.validate_event_sequence(got.events)
    deltas = [e for e in got.events if e["type"] == "response.output_text.delta"]
    assert len(deltas) > 5
    for frame, event in zip(got.frames, got.events, strict=False):
        if event["type"].endswith(".delta"):
            assert len(frame) <= CAP
    done = next(e for e in got.events if e["type"] == "response.output_text.done")
    assert "".join(e["delta"] for e in deltas) == done["text"]
    assert LONG in done["text"]
    return deltas


def test_a_long_delta_is_cut_live_and_in_a_resumed_stream(native: Stack) -> None:
    live = create(native, **_echo())
    assert live.status == 200
    _check_cut(live)
    background = create(native, **_echo(background=True))
    created = background.events[0]["response"]["id"]
    first = _check_cut(background)
    after = first[2]["sequence_number"]
    resumed = read("GET", native.url(f"/v1/responses/{created}?stream=true&starting_after={after}"))
    assert resumed.status == 200 and resumed.done
    later = [e for e in background.events if e["sequence_number"] > after]
    assert standard_events(resumed.events) == standard_events(later)
    for frame, event in zip(resumed.frames, resumed.events, strict=False):
        if event["type"].endswith(".delta"):
            assert len(frame) <= CAP


@pytest.mark.skipif("RATE_LIMIT_RPM" not in BY_NAME, reason="rate limits are not built yet")
def test_rate_limits_follow_created() -> None:
    stack = Stack("--fake", "--rate-limit-requests-per-minute", "1000").start()
    try:
        got = create(stack, input="hi")
    finally:
        stack.stop()
    spec.validate_event_sequence(got.events)
    assert got.types()[1] == "response.rate_limits.updated"
    [limit] = [x for x in got.events[1]["rate_limits"] if x["name"] == "requests"]
    assert limit["limit"] == 1000 and 0 <= limit["remaining"] < 1000
