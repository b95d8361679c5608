"""The state of one response while it is generated: sidecar deltas in, stream events out.

Owns which output item is open, sequence numbers, and the final Response object. The same
assembler serves streaming and non-streaming requests, so both return the same output. With
`seal` (include=reasoning.encrypted_content), each reasoning item gets its `encrypted_content`
when it is done: on output_item.done and in the final response, never on output_item.added.
With `max_event_bytes` (PORTICO_MAX_STREAM_EVENT_BYTES), a delta event larger than that is
sent as several consecutive delta events (event_size.py); `.done` events stay whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from inference.protocol import Delta, Final, FinishReason, TokenLogprob

from ..openai.response import new_id, usage
from ..tool_shapes import Target, custom_input, targets
from . import event_size
from . import events as ev
from .events import Event

REPETITION = "The engine stopped the generation: it detected a repeating token pattern."
ENGINE_ERROR = "The engine failed while generating this response."

# Every engine outcome, explicitly: finish reason -> (Response status, terminal event type).
OUTCOMES: dict[FinishReason, tuple[str, str]] = {
    FinishReason.STOP: ("completed", "completed"),
    FinishReason.TOOL_CALLS: ("completed", "completed"),
    FinishReason.LENGTH: ("incomplete", "incomplete"),
    FinishReason.ABORT: ("cancelled", "failed"),  # the spec has no response.cancelled event
    FinishReason.REPETITION: ("failed", "failed"),
    FinishReason.ERROR: ("failed", "failed"),
}


def logprob_dicts(logprobs: list[TokenLogprob]) -> list[dict[str, Any]]:
    return [
        {
            "token": lp.token,
            "logprob": lp.logprob,
            "bytes": lp.bytes,
            "top_logprobs": [
                {"token": t.token, "logprob": t.logprob, "bytes": t.bytes} for t in lp.top_logprobs
            ],
        }
        for lp in logprobs
    ]


class _OpenItem:
    __slots__ = (
        "call_id",
        "id",
        "index",
        "kind",
        "logprobs",
        "name",
        "parts",
        "target",
        "tool_index",
    )

    def __init__(self, kind: str, index: int, item_id: str) -> None:
        self.kind = kind
        self.index = index
        self.id = item_id
        self.parts: list[str] = []
        self.logprobs: list[dict[str, Any]] = []
        self.name = ""
        self.call_id = ""
        self.tool_index = -1
        self.target = Target("")  # a call's tool, as OpenAI names it (tool_shapes.py)


class ResponseAssembler:
    def __init__(
        self,
        response: dict[str, Any],
        *,
        logprobs: bool = False,
        make_id: Callable[[str], str] = new_id,
        on_first_token: Callable[[], None] | None = None,
        seal: Callable[[str], str] | None = None,
        max_event_bytes: int = 0,
    ) -> None:
        self.response = response
        self.logprobs = logprobs
        self.make_id = make_id
        self.seq = 0
        self.output: list[dict[str, Any]] = response["output"]
        self.open: _OpenItem | None = None
        self.first_token = False
        self.on_first_token = on_first_token
        self.seal = seal  # reasoning text -> encrypted_content (sealing.Sealer, bound)
        self.max_event_bytes = max_event_bytes  # 0: no cap on one delta event
        self.finish_reason: FinishReason | None = None  # the sidecar's, once FINAL arrived
        # model-facing tool names -> namespaced / custom tools (tool_shapes.py)
        self.targets = targets(response.get("tools") or [])

    def _seq(self) -> int:
        self.seq += 1
        return self.seq - 1

    def _snapshot(self) -> dict[str, Any]:
        return dict(self.response, output=list(self.output))

    def start(self) -> list[Event]:
        return [
            ev.response_event("created", self._seq(), self._snapshot()),
            ev.response_event("in_progress", self._seq(), self._snapshot()),
        ]

    # --- items ----------------------------------------------------------------------------

    def _open(
        self,
        kind: str,
        out: list[Event],
        tool_index: int = -1,
        call_id: str | None = None,
        name: str | None = None,
    ) -> _OpenItem:
        if self.open is not None:
            out.extend(self._close("completed"))
        prefix = {"message": "msg", "reasoning": "rs", "function_call": "fc"}[kind]
        target = self.targets.get(name or "")
        if target is not None and target.custom:
            prefix = "ctc"
        item = _OpenItem(kind, len(self.output), self.make_id(prefix))
        self.open = item
        if kind == "message":
            added: dict[str, Any] = {
                "id": item.id,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        elif kind == "reasoning":
            added = {
                "id": item.id,
                "type": "reasoning",
                "summary": [],
                "content": [],
                "status": "in_progress",
            }
            part = {"type": "reasoning_text", "text": ""}
        else:
            item.tool_index = tool_index
            item.call_id = call_id or self.make_id("call")
            item.name = name or ""
            item.target = self.targets.get(item.name) or Target(item.name)
            added = self._call_item(item, "", "in_progress")
        out.append(ev.output_item_added(self._seq(), item.index, added))
        if kind != "function_call":
            out.append(ev.content_part("added", self._seq(), item.id, item.index, 0, part))
        return item

    def _close(self, status: str) -> list[Event]:
        item, self.open = self.open, None
        if item is None:
            return []
        out: list[Event] = []
        text = "".join(item.parts)
        if item.kind == "message":
            part = {
                "type": "output_text",
                "text": text,
                "annotations": [],
                "logprobs": item.logprobs,
            }
            out.append(ev.output_text_done(self._seq(), item.id, item.index, text, item.logprobs))
            out.append(ev.content_part("done", self._seq(), item.id, item.index, 0, part))
            done: dict[str, Any] = {
                "id": item.id,
                "type": "message",
                "role": "assistant",
                "status": status,
                "content": [part],
            }
        elif item.kind == "reasoning":
            part = {"type": "reasoning_text", "text": text}
            out.append(ev.reasoning_text_done(self._seq(), item.id, item.index, text))
            out.append(ev.content_part("done", self._seq(), item.id, item.index, 0, part))
            done = {
                "id": item.id,
                "type": "reasoning",
                "summary": [],
                "content": [part],
                "status": status,
            }
            if self.seal is not None:
                done["encrypted_content"] = self.seal(text)
        elif item.target.custom:
            value = custom_input(text)
            out += self._split(value, partial(self._custom_delta, item))
            out.append(ev.custom_input_done(self._seq(), item.id, item.index, value))
            done = self._call_item(item, value, status)
        else:
            name = item.target.name
            out.append(ev.arguments_done(self._seq(), item.id, item.index, name, text))
            done = self._call_item(item, text, status)
        self.output.append(done)
        out.append(ev.output_item_done(self._seq(), item.index, done))
        return out

    @staticmethod
    def _reasoning_delta(item: _OpenItem, seq: int, part: str, first: bool) -> list[Event]:
        return [ev.reasoning_text_delta(seq, item.id, item.index, part)]

    @staticmethod
    def _text_delta(
        item: _OpenItem, lps: list[dict[str, Any]], seq: int, part: str, first: bool
    ) -> list[Event]:
        """A text delta; its logprobs ride on the first piece of a cut delta."""
        return [ev.output_text_delta(seq, item.id, item.index, part, lps if first else [])]

    @staticmethod
    def _custom_delta(item: _OpenItem, seq: int, part: str, first: bool) -> list[Event]:
        return [ev.custom_input_delta(seq, item.id, item.index, part)]

    @staticmethod
    def _arguments_delta(item: _OpenItem, seq: int, part: str, first: bool) -> list[Event]:
        """A function call's arguments delta, and the native tool_call.delta beside it."""
        name = item.target.name
        return [
            ev.arguments_delta(seq, item.id, item.index, part),
            ev.tool_call_delta(seq, item.id, item.index, item.call_id, name, part),
        ]

    @staticmethod
    def _call_item(item: _OpenItem, text: str, status: str) -> dict[str, Any]:
        """A tool call as OpenAI returns it: a function_call with its arguments, or a
        custom_tool_call with its input (which has no status); `namespace` when it has one."""
        target = item.target
        call: dict[str, Any] = {"id": item.id, "call_id": item.call_id, "name": target.name}
        if target.custom:
            call.update(type="custom_tool_call", input=text)
        else:
            call.update(type="function_call", arguments=text, status=status)
        if target.namespace is not None:
            call["namespace"] = target.namespace
        return call

    # --- deltas ---------------------------------------------------------------------------

    def _split(self, text: str, make: Callable[[int, str, bool], list[Event]]) -> list[Event]:
        """The delta events of `text`, one piece per event under the cap. `make(seq, piece,
        first)` builds a piece's event and, after it, the native events that repeat the piece
        (response.tool_call.delta): the largest of them is measured."""
        cap = self.max_event_bytes
        parts = [text]
        if cap > 0:
            far = self.seq + len(text)  # a sequence number with at least as many digits

            def overhead(first: bool) -> int:
                return max(event_size.frame_size(e) for e in make(far, "", first))

            parts = event_size.pieces(text, cap, overhead(True), overhead(False))
        return [make(self._seq(), part, i == 0)[0] for i, part in enumerate(parts)]

    def feed(self, delta: Delta) -> list[Event]:
        out: list[Event] = []
        if delta.reasoning:
            item = self.open if self.open and self.open.kind == "reasoning" else None
            item = item or self._open("reasoning", out)
            item.parts.append(delta.reasoning)
            out += self._split(delta.reasoning, partial(self._reasoning_delta, item))
        if (delta.text or delta.tool_calls) and not self.first_token:
            self.first_token = True
            if self.on_first_token is not None:
                self.on_first_token()
        if delta.text:
            item = self.open if self.open and self.open.kind == "message" else None
            item = item or self._open("message", out)
            item.parts.append(delta.text)
            lps = logprob_dicts(delta.logprobs) if self.logprobs else []
            item.logprobs.extend(lps)
            out += self._split(delta.text, partial(self._text_delta, item, lps))
        for call in delta.tool_calls:
            item = self.open
            if item is None or item.kind != "function_call" or item.tool_index != call.index:
                item = self._open("function_call", out, call.index, call.id, call.name)
            if call.arguments:
                item.parts.append(call.arguments)
                if not item.target.custom:  # a custom call's input is sent whole at its end
                    out += self._split(call.arguments, partial(self._arguments_delta, item))
        return out

    def consume(self, batch: list[Delta | Final]) -> list[Event]:
        """The events for a batch of sidecar messages (a Final ends the response)."""
        out: list[Event] = []
        for message in batch:
            out += self.feed(message) if isinstance(message, Delta) else self.finish(message)
        return out

    @property
    def done(self) -> bool:
        """Whether the terminal event (completed, incomplete or failed) was produced."""
        return self.response["status"] != "in_progress"

    def finish(self, final: Final) -> list[Event]:
        """The closing events for the sidecar's FINAL, by the OUTCOMES table."""
        self.finish_reason = final.finish_reason
        status, event = OUTCOMES[final.finish_reason]
        self.response["usage"] = usage(final.usage)
        if status == "failed":
            text = REPETITION if final.finish_reason == FinishReason.REPETITION else None
            return self.fail(text or final.error or ENGINE_ERROR)
        out = self._close("incomplete" if status != "completed" else "completed")
        self.response["status"] = status
        if status == "incomplete":
            self.response["incomplete_details"] = {"reason": "max_output_tokens"}
        elif status == "completed":
            self.response["completed_at"] = int(time.time())
        out.append(ev.response_event(event, self._seq(), self._snapshot()))
        return out

    def fail(self, message: str, code: str = "server_error") -> list[Event]:
        """End the response as failed (an engine error, a timeout, a lost sidecar)."""
        try:
            out = self._close("incomplete")
        except Exception:  # even a broken item must not keep the stream from ending
            self.open, out = None, []
        self.response["status"] = "failed"
        self.response["error"] = {"code": code, "message": message}
        out.append(ev.response_event("failed", self._seq(), self._snapshot()))
        return out

    def cancel(self) -> None:
        """End the response as cancelled, without events (nobody is listening)."""
        self.open = None
        self.response["status"] = "cancelled"

    def error(self, message: str, code: str = "server_error") -> list[Event]:
        """An `error` event (an unexpected failure), then the response as failed."""
        return [ev.error_event(self._seq(), message, code), *self.fail(message, code)]
