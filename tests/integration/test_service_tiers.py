"""Requests that queue in the real engine: vLLM (CPU) with `--scheduling-policy priority` and
one sequence at a time. A `priority` request sent after several `flex` ones runs before the
queued ones (frontend/service_tiers.py maps tiers onto vLLM's priority); a queued stream opens
at once, and a client that leaves it takes its request out of the engine's queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Literal

import httpx
import pytest

from inference.protocol import StatsReply
from tests.stack import Stack

from .conftest import ENGINE_ARGS, MODEL, OTHER_MODEL

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def queued_stack() -> Iterator[Stack]:
    model = (
        ["--model", OTHER_MODEL, "--served-model-name", MODEL, "--tool-call-parser", "hermes"]
        if OTHER_MODEL
        else []
    )
    stack = Stack(
        *model,
        *ENGINE_ARGS,
        "--scheduling-policy",
        "priority",
        "--max-num-seqs",
        "1",
        "--max-queued-requests",  # admission control: let all five wait
        "8",
        env={"VLLM_CPU_KVCACHE_SPACE": "1"},
    ).start(timeout=600)
    yield stack
    assert stack.stop() == 0, stack.log()


async def _race(stack: Stack) -> tuple[list[str], dict[str, str | None]]:
    """f0 holds the engine's one sequence while f1-f3 and then p queue behind it (each step
    checked in the engine's own queue figures, not timed); then f0's client leaves, and the
    scheduler picks the next request from a queue of four."""
    client = stack.async_openai()
    finished: list[str] = []
    tiers: dict[str, str | None] = {}

    async def create(name: str, tier: Literal["flex", "priority"], tokens: int) -> None:
        response = await client.responses.create(
            model=MODEL,
            input=f"Count slowly from one to one hundred. ({name})",
            service_tier=tier,
            max_output_tokens=tokens,
            temperature=0,
            extra_body={"ignore_eos": True},
        )
        finished.append(name)
        tiers[name] = response.service_tier

    async def queued(count: int) -> None:
        await asyncio.to_thread(_until, stack, lambda s: s.engine_waiting == count, 60.0)

    stream = await client.responses.create(
        model=MODEL,
        input="Count slowly from one to one hundred. (f0)",
        service_tier="flex",
        max_output_tokens=4000,  # runs past the test, even on a GPU: its client leaves
        temperature=0,
        stream=True,
        extra_body={"ignore_eos": True},
    )
    events = stream.__aiter__()
    while (event := await anext(events)).type != "response.output_text.delta":
        if event.type == "response.created":
            tiers["f0"] = event.response.service_tier
    flex = [asyncio.create_task(create(f"f{i}", "flex", 24)) for i in (1, 2, 3)]
    await queued(3)
    urgent = asyncio.create_task(create("p", "priority", 4))
    await queued(4)
    await stream.close()  # the disconnect aborts f0: the engine takes the next request
    await asyncio.gather(urgent, *flex)
    return finished, tiers


def test_a_priority_request_overtakes_queued_flex_ones(queued_stack: Stack) -> None:
    finished, tiers = asyncio.run(_race(queued_stack))
    assert finished[0] == "p" and sorted(finished[1:]) == ["f1", "f2", "f3"], finished
    assert tiers == {"f0": "flex", "f1": "flex", "f2": "flex", "f3": "flex", "p": "priority"}
    log = queued_stack.log_path.read_text(errors="replace")
    assert f"started (priority {-(2**32)})" in log  # the sidecar logs what vLLM got
    assert f"started (priority {2**32})" in log


def _until(stack: Stack, ready: Callable[[StatsReply], bool], timeout: float = 20.0) -> StatsReply:
    """The sidecar's STATS once `ready` holds (the engine reports its queue as it steps)."""
    deadline = time.monotonic() + timeout
    stats = stack.stats()
    while not ready(stats):
        assert time.monotonic() < deadline, stats
        time.sleep(0.05)
        stats = stack.stats()
    return stats


def test_a_queued_stream_opens_at_once_and_leaving_it_leaves_the_queue(
    queued_stack: Stack,
) -> None:
    """The sidecar answers STARTED when vLLM accepts a request, not with its first token: a
    stream that waits behind the engine's one running sequence has its headers,
    response.created and response.in_progress (and then pings) while it waits."""
    url = queued_stack.url("/v1/responses")
    long = {
        "model": MODEL,
        "input": "Tell me a very long story.",
        "stream": True,
        "max_output_tokens": 4000,  # runs past the test, even on a GPU
        "ignore_eos": True,
    }
    short = {"model": MODEL, "input": "Say hi.", "stream": True, "max_output_tokens": 8}
    # (each stream's line iterator is kept: a closed one would close its connection)
    with httpx.stream("POST", url, json=long, timeout=120) as running:
        lines = running.iter_lines()
        for line in lines:
            if line.startswith("event: response.output_text.delta"):
                break  # the engine's one sequence is taken
        with httpx.stream("POST", url, json=short, timeout=30) as waiting:
            assert waiting.status_code == 200
            events: list[str] = []
            queued = waiting.iter_lines()
            for line in queued:
                if line.startswith("event: "):
                    events.append(line.removeprefix("event: "))
                    if events[-1] == "response.in_progress":
                        break
            assert events == ["response.created", "response.in_progress"]
            stats = _until(queued_stack, lambda s: s.engine_waiting == 1)  # vLLM queues it
            assert stats.running == 2 and stats.engine_running == 1, stats
        # the client left before its first token: the request leaves the engine's queue
        stats = _until(queued_stack, lambda s: s.running == 1 and s.engine_waiting == 0)
        assert stats.engine_running == 1  # while the long one still runs
