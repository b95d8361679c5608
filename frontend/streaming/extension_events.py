"""Native mode's extension events, placed beside OpenAI's events on their way out.

Owns which extension event follows which standard one (frontend/extensions.py names them,
events.py builds them), for one stream, live (sse.relay) or resumed (replay.follow):

* after the stream's first event: `response.rate_limits.updated` when the request has limits
  (request.ctx.rate_limits), and after `response.created`, `response.additional_context`
  when hosted tools were left out of the prompt;
* after each `response.function_call_arguments.delta`: `response.tool_call.delta`, the same
  delta with the call's `call_id` and `name` (learnt from its `output_item.added`);
* after an `error` event, or right before a `response.failed` with no `error` before it:
  `response.error` (the terminal event stays the last one);
* after an event with a legacy name (extensions.LEGACY_NAMES), on request: the same event
  under that name;
* pings (`response.ping` in native mode; an SSE comment in compatibility mode).

Each extension event repeats the `sequence_number` of the standard event before it, so the
standard events are numbered 0, 1, 2, ... as in compatibility mode, and a resume point
(`starting_after`) means the same in both. The run log keeps standard events only: a resumed
stream gets its extension events from this module too, by the resuming request's mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..extensions import LEGACY_NAMES, StreamMode
from . import events as ev
from .events import Event


class ExtensionEvents:
    """The extension events of one stream (none in compatibility mode)."""

    def __init__(self, mode: StreamMode) -> None:
        self.mode = mode
        self.last_seq = -1  # the newest standard event's number
        self.calls: dict[str, tuple[str, str]] = {}  # function call item id -> call_id, name
        self.started = False
        self.errored = False

    def learn(self, events: Iterable[Event]) -> None:
        """Take note of events the client already has (a resumed stream's earlier ones)."""
        for event in events:
            self._note(event)

    def _note(self, event: Event) -> None:
        self.last_seq = event.get("sequence_number", self.last_seq)
        if event["type"] == "response.output_item.added":
            item: dict[str, Any] = event.get("item") or {}
            if item.get("type") == "function_call":
                self.calls[item["id"]] = (item.get("call_id") or "", item.get("name") or "")

    def add(self, events: list[Event]) -> list[Event]:
        """`events` with the extension events after the ones they accompany."""
        if not self.mode.native:
            if events:
                self.last_seq = events[-1].get("sequence_number", self.last_seq)
            return events
        out: list[Event] = []
        for event in events:
            out.extend(self._before(event))
            self._note(event)
            out.append(event)
            out.extend(self._beside(event))
        return out

    def _before(self, event: Event) -> list[Event]:
        """`response.error` ahead of a failed response's terminal event (numbered as the
        event before it), unless an `error` event already said it."""
        if event["type"] != "response.failed" or self.errored:
            return []
        response = event["response"]
        if response.get("status") != "failed":  # (a cancelled run also ends so)
            return []
        self.errored = True
        error = response.get("error") or {}
        return [ev.response_error(max(self.last_seq, 0), {"type": "server_error", **error})]

    def _beside(self, event: Event) -> list[Event]:
        kind, seq = event["type"], self.last_seq
        out: list[Event] = []
        if not self.started:
            self.started = True
            if self.mode.rate_limits:
                out.append(ev.rate_limits_updated(seq, [dict(x) for x in self.mode.rate_limits]))
        if kind == "response.created":
            omitted = event["response"].get("omitted_tools")
            if omitted:
                out.append(ev.additional_context(seq, list(omitted)))
        elif kind == "response.function_call_arguments.delta":
            call = self.calls.get(event["item_id"])
            if call is not None:
                item_id, index = event["item_id"], event["output_index"]
                out.append(ev.tool_call_delta(seq, item_id, index, *call, event["delta"]))
        elif kind == "error":
            self.errored = True
            out.append(ev.response_error(seq, event.get("error") or event))
        legacy = LEGACY_NAMES.get(kind)
        if legacy is not None and self.mode.aliases:
            out.append(ev.alias(event, legacy))
        return out

    def ping(self) -> list[Event]:
        """A ping event (native mode), or nothing: the writer then sends an SSE comment."""
        if not self.mode.native:
            return []
        return [ev.ping(max(self.last_seq, 0))]
