"""An instant, deterministic engine for tests and frontend benchmarks; no model, no vLLM.

Owns nothing but imitation: one token per word, a fixed reply, tool calls and JSON that
satisfy the request's schema, optional reasoning text and logprobs. Behind the real
SidecarServer it is the "fake sidecar" that speaks the real protocol over a real socket:

    python -m inference --fake --socket /tmp/portico.sock

Tests steer one request with directives in its last user message (see `Directives`):
`fake:finish=error` ends it with that finish reason, `fake:raise` fails it mid-stream with
an exception, `fake:delay=0.5` sets its seconds per token, `fake:echo` makes the reply (once
a tool's output ends the conversation) "Tool output: " and that output's first words. Under
tool_choice auto the fake calls a tool the last user message names, once: when a tool's
output ends the conversation it answers instead (an agent loop's second request).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from .backend import Event
from .protocol import (
    PROTOCOL_VERSION,
    ChatMessage,
    CountTokens,
    Delta,
    ErrorCode,
    Final,
    FinishReason,
    GenerateRequest,
    Handshake,
    HealthReply,
    RequestError,
    Role,
    Started,
    StatsReply,
    TokenCount,
    TokenLogprob,
    ToolCallDelta,
    ToolChoice,
    TopLogprob,
    Usage,
)

FAKE_KV_SLOTS = 256  # the fake KV cache: each running generation takes one slot
REPLY = [
    "Hello",
    "from",
    "the",
    "fake",
    "engine",
    ".",
    "It",
    "answers",
    "every",
    "prompt",
    "with",
    "these",
    "words",
]


def example_for(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A small value that satisfies a JSON schema (objects, arrays, scalars, enums, $refs)."""
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        return example_for(target, root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_for(schema[key][0], root)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            name: example_for(props.get(name, {}), root) for name in schema.get("required", props)
        }
    if kind == "array":
        return [example_for(schema.get("items", {}), root)] * schema.get("minItems", 0)
    return {"string": "fake", "integer": 1, "number": 1.5, "boolean": True}.get(kind)


_DIRECTIVE = re.compile(r"fake:(finish|raise|delay|echo)(?:=([\w.]+))?")


@dataclass
class Directives:
    """How a test asked this request to behave (parsed from its last user message)."""

    finish: FinishReason | None = None  # end with this reason instead of stop/length
    raise_after: int | None = None  # raise after this many deltas
    delay: float | None = None  # seconds per token
    echo: bool = False  # reply with the last tool output

    @classmethod
    def of(cls, request: GenerateRequest) -> Directives:
        last = next((m.content or "" for m in reversed(request.messages) if m.role == "user"), "")
        found = cls()
        for name, value in _DIRECTIVE.findall(last):
            if name == "finish":
                found.finish = FinishReason(value)
            elif name == "raise":
                found.raise_after = 2
            elif name == "echo":
                found.echo = True
            else:
                found.delay = float(value)
        return found


def _words(messages: list[ChatMessage]) -> int:
    """Prompt tokens: one per word of content and reasoning, two per message."""
    return sum(
        len((m.content or "").split()) + len((m.reasoning or "").split()) + 2 for m in messages
    )


class FakeEngine:
    """Generates REPLY (or tool calls / JSON) one word per token, optionally with a delay."""

    def __init__(
        self,
        *,
        model: str = "fake-model",
        max_model_len: int = 4096,
        token_delay: float = 0.0,
        tokens_per_delta: int = 1,
        reasoning: bool = False,
        reply_tokens: int = len(REPLY),
        max_num_seqs: int = 256,
    ) -> None:
        self.model = model
        self.max_model_len = max_model_len
        self.token_delay = token_delay
        self.tokens_per_delta = max(1, tokens_per_delta)
        self.reasoning = reasoning
        self.reply_tokens = reply_tokens
        self.max_num_seqs = max_num_seqs  # the capacity it reports (admission control)
        self.running = 0
        self.total = 0
        self.prefix_queries = self.prefix_hits = 0  # its usage reports half a prompt cached

    def handshake(self) -> Handshake:
        return Handshake(
            protocol_version=PROTOCOL_VERSION,
            model_names=[self.model],
            max_model_len=self.max_model_len,
            engine="fake",
            tool_call_parser="fake",
            reasoning_parser="fake" if self.reasoning else None,
            max_num_seqs=self.max_num_seqs,
        )

    async def generate(self, request: GenerateRequest) -> AsyncIterator[Event]:
        prompt = _words(request.messages)
        if prompt >= self.max_model_len:
            raise RequestError(
                ErrorCode.CONTEXT_LENGTH_EXCEEDED,
                f"the prompt has {prompt} tokens; this model's context is {self.max_model_len}",
                "input",
            )
        budget = self.max_model_len - prompt
        limit = min(request.sampling.max_tokens or budget, budget)
        self.running += 1
        self.total += 1
        self.prefix_queries += prompt
        self.prefix_hits += prompt // 2
        try:
            yield Started(prompt_tokens=prompt, max_tokens=limit)
            directives = Directives.of(request)
            sent = 0
            async for event in self._output(request, limit, prompt, directives):
                if isinstance(event, Final) and directives.finish is not None:
                    event.finish_reason = directives.finish
                    if directives.finish == FinishReason.ERROR:
                        event.error = "the fake engine failed this request, as asked"
                yield event
                sent += 1
                if directives.raise_after is not None and sent >= directives.raise_after:
                    raise RuntimeError("the fake engine broke mid-stream, as asked")
        finally:
            self.running -= 1

    async def _output(
        self, request: GenerateRequest, limit: int, prompt: int, directives: Directives
    ) -> AsyncIterator[Event]:
        delay = self.token_delay if directives.delay is None else directives.delay
        used = reasoning_used = 0
        if self.reasoning and limit > 1:
            reasoning_used = 2
            used += 2
            yield Delta(reasoning="Thinking briefly.", tokens=2)
        call = self._tool_call(request)
        if call is not None:
            name, args = call
            yield Delta(tool_calls=[ToolCallDelta(index=0, id="call_fake0", name=name)])
            pieces = _chunks(args, 4)
            sent = pieces[: limit - used]
            for piece in sent:
                await asyncio.sleep(delay)
                yield Delta(tool_calls=[ToolCallDelta(index=0, arguments=piece)], tokens=1)
            used += len(sent)
            reason = FinishReason.TOOL_CALLS if len(sent) == len(pieces) else FinishReason.LENGTH
        else:
            words = self._text(request, directives)
            emitted = words[: limit - used]
            for start in range(0, len(emitted), self.tokens_per_delta):
                chunk = emitted[start : start + self.tokens_per_delta]
                await asyncio.sleep(delay)
                yield Delta(
                    text="".join(chunk), logprobs=self._logprobs(request, chunk), tokens=len(chunk)
                )
            reason = FinishReason.LENGTH if len(words) > len(emitted) else FinishReason.STOP
            used += len(emitted)
        yield Final(
            finish_reason=reason,
            usage=Usage(
                prompt_tokens=prompt,
                cached_tokens=prompt // 2,
                completion_tokens=used,
                reasoning_tokens=reasoning_used,
            ),
        )

    def _text(self, request: GenerateRequest, directives: Directives) -> list[str]:
        if request.json_schema is not None or request.json_object:
            doc = json.dumps(example_for(request.json_schema or {"type": "object"}))
            return _chunks(doc, 4)
        last = request.messages[-1] if request.messages else None
        if directives.echo and last is not None and last.role == Role.TOOL:
            words = ["Tool", "output:", *(last.content or "").split()[:40]]
            return [w if i == 0 else " " + w for i, w in enumerate(words)]
        words = [REPLY[i % len(REPLY)] for i in range(self.reply_tokens)]
        return [w if i == 0 else " " + w for i, w in enumerate(words)]

    def _tool_call(self, request: GenerateRequest) -> tuple[str, str] | None:
        tools = {t.name: t for t in request.tools}
        if not tools or request.tool_choice == ToolChoice.NONE:
            return None
        if request.tool_choice == ToolChoice.FUNCTION and request.tool_name in tools:
            name: str | None = request.tool_name
        elif request.tool_choice == ToolChoice.REQUIRED:
            name = next(iter(tools))
        elif request.messages and request.messages[-1].role == Role.TOOL:
            return None  # auto, with a tool's output last: answer (the agent loop's next turn)
        else:  # auto: call a tool only when the last user message names it
            last = next(
                (m.content or "" for m in reversed(request.messages) if m.role == Role.USER), ""
            )
            name = next((n for n in tools if n in last), None)
        if name is None:
            return None
        return name, json.dumps(example_for(tools[name].parameters or {"type": "object"}))

    @staticmethod
    def _logprobs(request: GenerateRequest, chunk: list[str]) -> list[TokenLogprob]:
        n = request.sampling.top_logprobs
        if n is None:
            return []
        return [
            TokenLogprob(
                token=tok,
                logprob=-0.25,
                bytes=list(tok.encode()),
                top_logprobs=[
                    TopLogprob(token=tok, logprob=-0.25, bytes=list(tok.encode())),
                    *(TopLogprob(token=f" alt{i}", logprob=-2.0 - i) for i in range(n - 1)),
                ][:n],
            )
            for tok in chunk
        ]

    async def count_tokens(self, request: CountTokens) -> TokenCount:
        return TokenCount(tokens=_words(request.messages), max_model_len=self.max_model_len)

    async def health(self) -> HealthReply:
        return HealthReply(healthy=True)

    def stats(self) -> StatsReply:
        return StatsReply(
            running=self.running,
            total_requests=self.total,
            engine_figures=True,  # a scheduler that runs everything at once, nothing waits
            engine_running=self.running,
            kv_cache_usage=min(1.0, self.running / FAKE_KV_SLOTS),
            prefix_cache_queries=self.prefix_queries,
            prefix_cache_hits=self.prefix_hits,
            figures_at=time.monotonic(),  # the fake's figures are always current
        )

    async def shutdown(self) -> None:
        return None


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
