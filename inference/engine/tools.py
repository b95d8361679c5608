"""Tool calls out of generated text, streamed as protocol ToolCallDeltas.

Owns three ways a call is produced: a vLLM tool parser reading free text (tool_choice auto),
a named function whose arguments are the whole constrained output, and tool_choice
"required", whose output is a constrained JSON array of {name, parameters}.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Protocol

from inference.protocol import GenerateRequest, ToolCallDelta, ToolChoice

from .vllm_api import chat_completion_request_class


def call_id() -> str:
    return f"call_{secrets.token_hex(12)}"


class ToolStream(Protocol):
    """Feed content text; get back (plain text, tool-call deltas). `finish` flushes."""

    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, list[ToolCallDelta]]: ...

    def finish(self) -> tuple[str, list[ToolCallDelta]]: ...

    @property
    def called(self) -> bool: ...


class PlainText:
    called = False

    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, list[ToolCallDelta]]:
        return delta, []

    def finish(self) -> tuple[str, list[ToolCallDelta]]:
        return "", []


class NamedCall:
    """tool_choice {type: function, name}: the constrained output is the arguments."""

    called = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = False

    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, list[ToolCallDelta]]:
        if not self.started:
            self.started = True
            return "", [ToolCallDelta(index=0, id=call_id(), name=self.name, arguments=delta)]
        return "", [ToolCallDelta(index=0, arguments=delta)] if delta else []

    def finish(self) -> tuple[str, list[ToolCallDelta]]:
        return "", [] if self.started else [
            ToolCallDelta(index=0, id=call_id(), name=self.name, arguments="{}")
        ]


class RequiredCalls:
    """tool_choice "required": a JSON array of calls, emitted once the array is complete."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.called = False

    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, list[ToolCallDelta]]:
        self.text.append(delta)
        return "", []

    def finish(self) -> tuple[str, list[ToolCallDelta]]:
        try:
            calls = json.loads("".join(self.text))
        except ValueError:
            return "".join(self.text), []  # cut off by max tokens: hand back what there is
        out = [
            ToolCallDelta(
                index=i,
                id=call_id(),
                name=str(call.get("name", "")),
                arguments=json.dumps(call.get("parameters", {})),
            )
            for i, call in enumerate(calls if isinstance(calls, list) else [])
            if isinstance(call, dict)
        ]
        self.called = bool(out)
        return "", out


class ParsedCalls:
    """tool_choice auto: a vLLM tool parser finds calls in free text, as it streams.

    At the end the parser's non-streaming result is the reference: arguments the stream
    has not sent yet are sent then, and calls the stream missed are sent whole.
    """

    def __init__(self, parser: Any, chat_request: Any, parallel: bool) -> None:
        self.parser = parser
        self.request = chat_request
        self.parallel = parallel
        self.text = ""
        self.ids: list[int] = []
        self.sent: dict[int, list[str]] = {}  # index → [id, name, arguments so far]
        self.called = False

    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, list[ToolCallDelta]]:
        previous, previous_ids = self.text, self.ids
        self.text = previous + delta
        self.ids = previous_ids + token_ids
        try:
            message = self.parser.extract_tool_calls_streaming(
                previous, self.text, delta, previous_ids, self.ids, token_ids, self.request
            )
        except Exception:
            message = None  # the end-of-stream pass below recovers the calls
        if message is None:
            return "", []
        return message.content or "", self._deltas(message.tool_calls or [])

    def _deltas(self, calls: list[Any]) -> list[ToolCallDelta]:
        out = []
        for call in calls:
            if not self.parallel and call.index > 0:
                continue
            fn = call.function
            name = getattr(fn, "name", None) if fn is not None else None
            args = (getattr(fn, "arguments", None) or "") if fn is not None else ""
            state = self.sent.get(call.index)
            if state is None:
                if not name:
                    continue  # arguments before a name: wait for the final pass
                state = self.sent[call.index] = [call.id or call_id(), name, ""]
                out.append(ToolCallDelta(index=call.index, id=state[0], name=name))
            if args:
                state[2] += args
                out.append(ToolCallDelta(index=call.index, arguments=args))
        self.called = self.called or bool(self.sent)
        return out

    def finish(self) -> tuple[str, list[ToolCallDelta]]:
        try:
            info = self.parser.extract_tool_calls(self.text, self.request)
        except Exception:
            return "", []
        if not info.tools_called:
            return "", []
        out: list[ToolCallDelta] = []
        for index, call in enumerate(info.tool_calls[: None if self.parallel else 1]):
            name, args = call.function.name, call.function.arguments or ""
            state = self.sent.get(index)
            if state is None:
                self.sent[index] = [call.id or call_id(), name, args]
                out.append(ToolCallDelta(index=index, id=self.sent[index][0], name=name))
                out.append(ToolCallDelta(index=index, arguments=args))
            elif args.startswith(state[2]) and len(args) > len(state[2]):
                out.append(ToolCallDelta(index=index, arguments=args[len(state[2]) :]))
                state[2] = args
        self.called = self.called or bool(self.sent)
        return "", [d for d in out if d.name is not None or d.arguments]


def tool_stream(request: GenerateRequest, parser_cls: Any, tokenizer: Any) -> ToolStream:
    if not request.tools or request.tool_choice == ToolChoice.NONE:
        return PlainText()
    if request.tool_choice == ToolChoice.FUNCTION:
        return NamedCall(request.tool_name or "")
    if request.tool_choice == ToolChoice.REQUIRED:
        return RequiredCalls()
    return ParsedCalls(parser_cls(tokenizer), chat_request(request), request.parallel_tool_calls)


def chat_request(request: GenerateRequest) -> Any:
    """The ChatCompletionRequest vLLM's parsers take (some read `tools` to coerce types)."""
    request_cls: Any = chat_completion_request_class()  # pydantic: validates the dicts below
    return request_cls(
        messages=[],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ],
        tool_choice="auto",
    )
