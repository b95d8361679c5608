"""VllmEngine: the Engine interface (inference/backend.py) over vLLM's AsyncLLM.

Owns one request's life in the engine: render the prompt, check it fits, build sampling
params, stream RequestOutput deltas through the reasoning and tool parsers into protocol
Deltas, and abort the engine request when the stream is closed early.
"""

from __future__ import annotations

import argparse
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from inference.backend import Event
from inference.protocol import (
    PROTOCOL_VERSION,
    CountTokens,
    Delta,
    ErrorCode,
    Final,
    FinishReason,
    GenerateRequest,
    Handshake,
    HealthReply,
    RequestError,
    Started,
    StatsReply,
    TokenCount,
    TokenLogprob,
    ToolChoice,
    TopLogprob,
    Usage,
)

from . import cadence, chat, sampling, tools
from .args import engine_args
from .figures import EngineFigures
from .prefill_window import PrefillWindow
from .reasoning import NoReasoning, ParsedReasoning, ReasoningSplit
from .slot import Slot
from .submission import Submission
from .vllm_api import (
    INVALID,
    VERSION,
    AsyncLLM,
    EngineDeadError,
    ReasoningParserManager,
    ToolParserManager,
    UsageContext,
    on_cpu,
    tokens_input,
)

log = logging.getLogger("portico.engine")
# vLLM's finish reasons (CompletionOutput.finish_reason), each mapped explicitly.
FINISH = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "abort": FinishReason.ABORT,
    "error": FinishReason.ERROR,
    "repetition": FinishReason.REPETITION,
}


def engine_request_id(request: GenerateRequest) -> str:
    """vLLM's id for a generation: the response id, with the caller's request id (X-Request-Id,
    `trace_id`) after it when there is one, so vLLM's own log lines about the request name
    it too. Cancellation goes by the protocol's request id (inference/server.py), never by
    this one."""
    return f"{request.request_id}:{request.trace_id}" if request.trace_id else request.request_id


def finish_of(raw: str | None, called: bool) -> tuple[FinishReason, str | None]:
    """The protocol finish reason for vLLM's, and an error text when it is an error."""
    reason = FINISH.get(raw or "stop")
    if reason is None:
        log.warning("vLLM finished a request with an unknown reason %r", raw)
        return FinishReason.ERROR, f"the engine ended the request with an unknown reason {raw!r}"
    if reason == FinishReason.ERROR:
        return reason, "the engine failed this request (vLLM finish reason 'error')"
    if reason == FinishReason.STOP and called:
        return FinishReason.TOOL_CALLS, None
    return reason, None


def _logprobs(
    output: Any, token_ids: list[int], top: int, hidden: frozenset[int]
) -> list[TokenLogprob]:
    """One entry per token of the delta's text; `hidden` (special) tokens have no text."""
    entries = output.logprobs[-len(token_ids) :] if output.logprobs and token_ids else []
    out = []
    for token_id, entry in zip(token_ids, entries, strict=False):
        if token_id in hidden:
            continue  # e.g. the end-of-turn token that arrives with the last word
        chosen = entry[token_id]
        text = chosen.decoded_token or ""
        ranked = sorted((lp for lp in entry.values() if lp.rank <= top), key=lambda lp: lp.rank)
        out.append(
            TokenLogprob(
                token=text,
                logprob=max(chosen.logprob, -9999.0),
                bytes=list(text.encode("utf-8", "replace")),
                top_logprobs=[
                    TopLogprob(
                        token=lp.decoded_token or "",
                        logprob=max(lp.logprob, -9999.0),
                        bytes=list((lp.decoded_token or "").encode("utf-8", "replace")),
                    )
                    for lp in ranked
                ],
            )
        )
    return out


def async_llm(args: Any, figures: EngineFigures, slot: Slot | None) -> Any:
    """vLLM's AsyncLLM: with its own engine core (no slot), or as client `slot.index` of a
    core the sidecar's first process started (a shard: engine/shards.py)."""
    shard: dict[str, Any] = {}
    if slot is not None:
        args._api_process_count, args._api_process_rank = slot.count, slot.index
        shard = {
            "client_addresses": dict(slot.addresses),
            "client_count": slot.count,
            "client_index": slot.index,
        }
    config = args.create_engine_config(usage_context=UsageContext.OPENAI_API_SERVER)
    cadence.install(config)  # the engine core's scheduler (a shard's copy goes unused)
    return AsyncLLM.from_vllm_config(
        config,
        usage_context=UsageContext.OPENAI_API_SERVER,
        stat_loggers=[figures.factory()],
        disable_log_stats=args.disable_log_stats,
        enable_log_requests=args.enable_log_requests,
        **shard,
    )


class VllmEngine:
    def __init__(self, namespace: argparse.Namespace, slot: Slot | None = None) -> None:
        self.figures = EngineFigures()  # the scheduler's own figures, for STATS
        self.engine = async_llm(engine_args(namespace), self.figures, slot)
        self.tokenizer = self.engine.get_tokenizer()
        self.special_ids = frozenset(getattr(self.tokenizer, "all_special_ids", ()))
        self.max_model_len = int(self.engine.model_config.max_model_len)
        self.template = chat.load_template(namespace.chat_template)
        self.tool_parser_name: str | None = namespace.tool_call_parser
        self.tool_parser = (
            ToolParserManager.get_tool_parser(self.tool_parser_name)
            if self.tool_parser_name
            else None
        )
        self.reasoning_parser_name: str | None = (
            getattr(namespace, "reasoning_parser", None) or None
        )
        self.reasoning_parser = (
            ReasoningParserManager.get_reasoning_parser(self.reasoning_parser_name)
            if self.reasoning_parser_name
            else None
        )
        platform = "cpu" if on_cpu() else "cuda"
        self.engine_label = f"vllm {VERSION} ({platform})"
        names = namespace.served_model_name or [namespace.model]
        self.model_names = [names] if isinstance(names, str) else list(names)
        self.total = 0
        self.active = 0  # generations in the engine from this process
        self.window = PrefillWindow(namespace.prefill_window_ms / 1000.0)

    def handshake(self) -> Handshake:
        return Handshake(
            protocol_version=PROTOCOL_VERSION,
            model_names=self.model_names,
            max_model_len=self.max_model_len,
            engine=self.engine_label,
            tool_call_parser=self.tool_parser_name,
            reasoning_parser=self.reasoning_parser_name,
            max_num_seqs=int(self.engine.vllm_config.scheduler_config.max_num_seqs),
            priority_scheduling=self.engine.vllm_config.scheduler_config.policy == "priority",
        )

    def _prompt(self, request: GenerateRequest | CountTokens) -> list[int]:
        prompt_tools = (
            []
            if getattr(request, "tool_choice", ToolChoice.AUTO) == ToolChoice.NONE
            else request.tools
        )
        return chat.render(
            self.tokenizer,
            request.messages,
            prompt_tools,
            template=self.template,
            template_kwargs=request.chat_template_kwargs,
        )

    async def generate(self, request: GenerateRequest) -> AsyncIterator[Event]:
        if request.tools and request.tool_choice == ToolChoice.AUTO and self.tool_parser is None:
            raise RequestError(
                ErrorCode.UNSUPPORTED,
                "tools with tool_choice auto need --tool-call-parser",
                "tools",
            )
        prompt = self._prompt(request)
        if len(prompt) >= self.max_model_len:
            raise RequestError(
                ErrorCode.CONTEXT_LENGTH_EXCEEDED,
                f"This model's maximum context length is {self.max_model_len} tokens. However, "
                f"your input resulted in {len(prompt)} tokens. Please reduce its length.",
                "input",
            )
        budget = self.max_model_len - len(prompt)
        max_tokens = min(request.sampling.max_tokens or budget, budget)
        try:
            params = sampling.sampling_params(request, max_tokens)
        except INVALID as exc:
            raise RequestError(ErrorCode.INVALID_REQUEST, str(exc)) from None
        await self.window.enter(busy=self.active > 0)
        self.total += 1
        self.active += 1
        submission: Submission | None = None
        try:
            try:  # vLLM validates the request as it accepts it, before STARTED
                submission = await Submission.submit(
                    self.engine,
                    tokens_input(prompt),
                    params,
                    engine_request_id(request),
                    request.priority,
                )
            except INVALID as exc:
                raise RequestError(ErrorCode.INVALID_REQUEST, str(exc)) from None
            except EngineDeadError as exc:
                raise RequestError(ErrorCode.ENGINE_DEAD, str(exc)) from None
            # at once, not with the first token: the client's stream opens while it queues
            yield Started(prompt_tokens=len(prompt), max_tokens=max_tokens)
            async for event in self._deltas(request, submission.outputs(), len(prompt)):
                yield event
        finally:
            self.active -= 1
            if submission is not None:
                await submission.release()  # aborts the engine request if it still runs

    async def _deltas(
        self, request: GenerateRequest, outputs: AsyncIterator[Any], prompt_tokens: int
    ) -> AsyncIterator[Event]:
        split: ReasoningSplit = (
            ParsedReasoning(self.reasoning_parser(self.tokenizer))
            if self.reasoning_parser is not None
            else NoReasoning()
        )
        calls = tools.tool_stream(request, self.tool_parser, self.tokenizer)
        top = request.sampling.top_logprobs
        completion = reasoning_tokens = 0
        async for output in outputs:
            out = output.outputs[0]
            ids = list(out.token_ids)
            completion += len(ids)
            reasoning, content = split.feed(out.text, ids)
            if reasoning and not content:
                reasoning_tokens += len(ids)
            text, call_deltas = calls.feed(content, ids) if content else ("", [])
            logprobs = (
                _logprobs(out, ids, top, self.special_ids)
                if top is not None and text == out.text
                else []
            )
            if output.finished:
                tail, tail_calls = calls.finish()
                text, call_deltas = text + tail, call_deltas + tail_calls
            if reasoning or text or call_deltas:
                yield Delta(
                    text=text,
                    reasoning=reasoning,
                    tool_calls=call_deltas,
                    logprobs=logprobs,
                    tokens=len(ids),
                )
            if output.finished:
                reason, error = finish_of(out.finish_reason, calls.called)
                yield Final(
                    finish_reason=reason,
                    error=error,
                    usage=Usage(
                        prompt_tokens=prompt_tokens,
                        cached_tokens=int(output.num_cached_tokens or 0),
                        completion_tokens=completion,
                        reasoning_tokens=reasoning_tokens,
                    ),
                )

    async def count_tokens(self, request: CountTokens) -> TokenCount:
        return TokenCount(tokens=len(self._prompt(request)), max_model_len=self.max_model_len)

    async def health(self) -> HealthReply:
        try:
            await self.engine.check_health()
        except Exception as exc:
            return HealthReply(healthy=False, detail=f"{type(exc).__name__}: {exc}")
        return HealthReply(healthy=True)

    def stats(self) -> StatsReply:
        running = self.engine.output_processor.get_num_unfinished_requests()
        figures = self.figures
        return StatsReply(
            running=running,
            total_requests=self.total,
            engine_figures=figures.reported,
            engine_running=figures.running,
            engine_waiting=figures.waiting,
            kv_cache_usage=figures.kv_cache_usage,
            prefix_cache_queries=figures.prefix_cache_queries,
            prefix_cache_hits=figures.prefix_cache_hits,
            preemptions=figures.preemptions,
            figures_at=figures.updated,
            engine_steps=figures.steps,
            engine_prefill_steps=figures.prefill_steps,
            engine_decode_steps=figures.decode_steps,
        )

    async def shutdown(self) -> None:
        self.engine.shutdown()
        # Release AsyncLLM now: left to interpreter teardown, its __del__ calls shutdown()
        # again after module globals are gone and prints a traceback on every Ctrl-C.
        del self.engine
        gc.collect()
