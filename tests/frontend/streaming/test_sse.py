"""The SSE byte format: one `event:` line and one `data:` line per event, a blank line after."""

from __future__ import annotations

import json

from frontend.streaming import events as ev
from frontend.streaming import sse


def test_each_event_is_named_by_its_type_and_carries_its_json() -> None:
    batch = [
        ev.output_text_delta(3, "msg_1", 0, 'say "hi"\nthen\u00e9', []),
        ev.error_event(4, "boom", "server_error"),
    ]
    data = sse.encode(batch)
    frames = data.split(b"\n\n")
    assert frames[-1] == b""  # every frame ends with a blank line
    assert len(frames) == 3
    for frame, event in zip(frames[:-1], batch, strict=True):
        name, payload = frame.split(b"\n")
        assert name == b"event: " + event["type"].encode()
        assert payload.startswith(b"data: ")
        assert json.loads(payload[len(b"data: ") :]) == event


def test_newlines_in_text_stay_inside_one_data_line() -> None:
    data = sse.encode([ev.reasoning_text_delta(0, "rs", 0, "a\nb\r\nc")])
    assert data.count(b"\n") == 3  # event line, data line, blank line


def test_nothing_in_nothing_out() -> None:
    assert sse.encode([]) == b""


def test_the_markers() -> None:
    assert sse.DONE == b"data: [DONE]\n\n"
    assert sse.KEEPALIVE.startswith(b":")  # an SSE comment, ignored by clients
    assert sse.KEEPALIVE.endswith(b"\n\n")
    assert sse.HEADERS["Cache-Control"] == "no-cache"
