"""The run's observers in-process: the store keeps every final response, metrics count it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import pytest
from prometheus_client import REGISTRY

from frontend import translate
from frontend.observers import MetricsObserver, StoreObserver
from frontend.openai.request import CreateResponse
from frontend.openai.response import skeleton
from frontend.run import ResponseRun, RunObserver
from frontend.store import MemoryStore
from frontend.streaming.assembler import ResponseAssembler
from inference.protocol import (
    ChatMessage,
    Delta,
    Final,
    FinishReason,
    Role,
    ToolCall,
    ToolCallDelta,
)
from tests.frontend.scripted import MODEL, Script, ScriptedClient, reply, usage

_models = itertools.count()


def model_label() -> str:
    """A model label of its own, so counters start at zero in each test."""
    return f"observed-{next(_models)}"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def run_with(
    script: Script, observers: Sequence[RunObserver], *, input: str = "hi"
) -> ResponseRun:
    client = ScriptedClient([script])
    body = CreateResponse.model_validate({"model": MODEL, "input": input})
    assert client.handshake is not None
    request = translate.generate_request(
        body, translate.input_messages(body), request_id="resp_obs", handshake=client.handshake
    )
    run = ResponseRun(
        client,
        request,
        ResponseAssembler(skeleton(body, response_id="resp_obs", model=MODEL)),
        observers=observers,
    )
    await run.start()
    return run


# --- the store ---------------------------------------------------------------------------


async def test_the_store_keeps_the_response_and_this_turn_only() -> None:
    store = MemoryStore(max_entries=10, ttl=60)
    messages = [ChatMessage(role=Role.USER, content="hi")]
    items = [{"type": "message", "id": "msg_1", "role": "user", "content": []}]
    script = Script(
        [
            Delta(text="Calling."),
            Delta(tool_calls=[ToolCallDelta(index=0, id="c1", name="f", arguments="{}")]),
            Final(finish_reason=FinishReason.TOOL_CALLS, usage=usage()),
        ]
    )
    run = await run_with(script, [StoreObserver(store, "tenant-a", messages, items)])
    await run.result()
    entry = await store.get("tenant-a", "resp_obs")
    assert entry is not None
    assert entry.response == run.response
    assert entry.messages == messages  # the turn's input; its output is the response's
    assert entry.input_items == items
    assert translate.output_messages(entry.response["output"]) == [
        ChatMessage(
            role=Role.ASSISTANT,
            content="Calling.",
            tool_calls=[ToolCall(id="c1", name="f", arguments="{}")],
        ),
    ]
    assert await store.get("tenant-b", "resp_obs") is None


async def test_a_response_over_the_byte_cap_is_logged_not_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore(max_entries=10, max_bytes=100, ttl=60)
    run = await run_with(reply("x"), [StoreObserver(store, "t", [], [])])
    await run.result()
    assert await store.get("t", "resp_obs") is None
    assert "larger than the store's byte cap" in caplog.text


async def test_the_store_keeps_failed_and_cancelled_responses() -> None:
    store = MemoryStore(max_entries=10, ttl=60)
    failed = await run_with(
        reply("x", finish=FinishReason.ERROR, error="boom"), [StoreObserver(store, "t", [], [])]
    )
    async for _ in failed.events():
        pass
    entry = await store.get("t", "resp_obs")
    assert entry is not None and entry.response["status"] == "failed"

    store = MemoryStore(max_entries=10, ttl=60)
    cancelled = await run_with(reply("x"), [StoreObserver(store, "t", [], [])])
    await cancelled.close()
    entry = await store.get("t", "resp_obs")
    assert entry is not None and entry.response["status"] == "cancelled"


# --- metrics -----------------------------------------------------------------------------


async def test_metrics_count_tokens_statuses_and_first_tokens() -> None:
    model = model_label()
    in_flight = sample("portico_requests_in_flight")
    observer = MetricsObserver(model, time.monotonic())
    assert sample("portico_requests_in_flight") == in_flight + 1
    script = Script(
        [
            Delta(text="a"),
            Delta(text="b"),
            Final(
                finish_reason=FinishReason.STOP,
                usage=usage(prompt=11, completion=2, cached=4),
            ),
        ]
    )
    run = await run_with(script, [observer])
    await run.result()
    assert sample("portico_requests_in_flight") == in_flight
    assert sample("portico_input_tokens_total", model=model) == 11
    assert sample("portico_cached_input_tokens_total", model=model) == 4
    assert sample("portico_output_tokens_total", model=model) == 2
    assert sample("portico_responses_total", model=model, status="completed") == 1
    assert sample("portico_time_to_first_token_seconds_count", model=model) == 1


async def test_metrics_count_failures_and_no_first_token_without_output() -> None:
    model = model_label()
    run = await run_with(
        reply(finish=FinishReason.ERROR), [MetricsObserver(model, time.monotonic())]
    )
    async for _ in run.events():
        pass
    assert sample("portico_responses_total", model=model, status="failed") == 1
    assert sample("portico_responses_total", model=model, status="completed") == 0
    assert sample("portico_time_to_first_token_seconds_count", model=model) == 0


async def test_metrics_count_a_cancelled_run() -> None:
    model = model_label()
    in_flight = sample("portico_requests_in_flight")
    run = await run_with(reply("a"), [MetricsObserver(model, time.monotonic())])
    await run.close()
    assert sample("portico_responses_total", model=model, status="cancelled") == 1
    assert sample("portico_requests_in_flight") == in_flight
