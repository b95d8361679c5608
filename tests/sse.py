"""Raw-HTTP SSE reading for tests: what a client without the SDK sees on the wire.

`events` holds OpenAI's events; Portico's native extension events (and legacy aliases) are
checked where they stand (tests/spec/extension_events.py) and kept, with the rest, in
`every`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.spec.extension_events import standard_events


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list[dict[str, Any]] = field(default_factory=list)  # OpenAI's events
    names: list[str] = field(default_factory=list)  # the `event:` line of each event
    every: list[dict[str, Any]] = field(default_factory=list)  # with the extension events
    done: bool = False  # `data: [DONE]` seen
    comments: int = 0
    body: bytes = b""


def post_stream(url: str, body: dict[str, Any], **kwargs: Any) -> Stream:
    with httpx.stream("POST", url, json=body, timeout=120, **kwargs) as response:
        result = Stream(response.status_code, response.headers)
        if response.status_code != 200:
            result.body = response.read()
            return result
        name = None
        for line in response.iter_lines():
            if line.startswith(":"):
                result.comments += 1
            elif line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
                if data == "[DONE]":
                    result.done = True
                    continue
                event = json.loads(data)
                result.events.append(event)
                result.names.append(name or "")
                name = None
    result.every = result.events
    standard = {id(e) for e in standard_events(result.every)}
    kept = [(e, n) for e, n in zip(result.every, result.names, strict=True) if id(e) in standard]
    result.events = [e for e, _ in kept]
    result.names = [n for _, n in kept]
    return result
