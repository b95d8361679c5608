"""A sharded sidecar on the real engine (`--api-server-count 2`): the first process starts
vLLM's engine core and two shard processes, each an AsyncLLM client with its own socket
(inference/engine/shards.py). Generations spread over both shards, a cancel by id finds
the shard that runs it, STATS adds the shards up, and SIGINT stops everything cleanly."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import ENGINE_ARGS, MODEL, OTHER_MODEL
from tests.stack import Stack, sidecar_client


@pytest.fixture(scope="module")
def sharded_stack() -> Iterator[Stack]:
    model = ["--model", OTHER_MODEL, "--served-model-name", MODEL] if OTHER_MODEL else []
    stack = Stack(
        *model, *ENGINE_ARGS, "--api-server-count", "2", env={"VLLM_CPU_KVCACHE_SPACE": "1"}
    ).start(timeout=600)
    yield stack
    assert stack.stop() == 0, stack.log()
    assert "Traceback" not in stack.log(), stack.log()
    left = subprocess.run(["pgrep", "-f", stack.socket], capture_output=True, text=True)
    assert left.stdout == "", f"processes left behind: {left.stdout}"


def per_shard_totals(stack: Stack) -> list[int]:
    async def ask() -> list[int]:
        async with sidecar_client(stack.socket) as client:
            assert len(client.shards) == 2 and client.ready
            return [(await shard.stats()).total_requests for shard in client.shards]

    return asyncio.run(ask())


def test_generations_spread_over_both_shards(sharded_stack: Stack) -> None:
    client = sharded_stack.async_openai()

    async def some() -> list[str]:  # the status of each response that has text
        replies = await asyncio.gather(
            *(
                client.responses.create(model=MODEL, input=f"Say {n}.", max_output_tokens=8)
                for n in range(6)
            )
        )
        return [str(reply.status) for reply in replies if reply.output_text]

    # 8 tokens may cut an answer short ("incomplete"); each one has text and no error
    statuses = asyncio.run(some())
    assert len(statuses) == 6 and set(statuses) <= {"completed", "incomplete"}, statuses
    totals = per_shard_totals(sharded_stack)
    assert sum(totals) >= 6 and min(totals) >= 2, totals  # taken in turn
    assert sharded_stack.stats().total_requests == sum(totals)


def test_a_background_response_is_cancelled_on_its_shard(sharded_stack: Stack) -> None:
    client = sharded_stack.openai()
    started = [
        client.responses.create(
            model=MODEL,
            input="Write a very long story about the sea.",
            max_output_tokens=2000,
            background=True,
            extra_body={"ignore_eos": True},
        )
        for _ in range(2)  # one on each shard
    ]
    for response in started:
        deadline = time.monotonic() + 60
        while client.responses.retrieve(response.id).status == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.responses.cancel(response.id).status == "cancelled"
    assert sharded_stack.wait_idle(timeout=30).running == 0


def test_the_engine_figures_reach_metrics(sharded_stack: Stack) -> None:
    body = {"model": MODEL, "input": "Say hello. " * 20, "max_output_tokens": 4}
    assert httpx.post(sharded_stack.url("/v1/responses"), json=body, timeout=300).is_success
    deadline = time.monotonic() + 30
    while not sharded_stack.stats().engine_figures:
        assert time.monotonic() < deadline, "no shard relayed the engine's figures"
        time.sleep(0.5)
    metrics = httpx.get(sharded_stack.url("/metrics"), timeout=30).text
    assert "portico_engine_prefix_cache_queried_tokens_total" in metrics
