"""Service tiers on the real engine: vLLM (CPU) with `--scheduling-policy priority` and one
sequence at a time, so requests queue; a `priority` request sent after several `flex` ones
runs before the queued ones (frontend/service_tiers.py maps tiers onto vLLM's priority)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Literal

import pytest
from openai import AsyncOpenAI

from tests.stack import Stack

from .conftest import ENGINE_ARGS, MODEL, OTHER_MODEL

pytestmark = pytest.mark.integration
FLEX_TOKENS = 24  # each flex request runs this long (ignore_eos), so the others wait


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


async def _race(client: AsyncOpenAI) -> tuple[list[str], dict[str, str | None]]:
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

    # f0 runs first: wait until it streams, so the engine is busy and the rest queue behind it
    stream = await client.responses.create(
        model=MODEL,
        input="Count slowly from one to one hundred. (f0)",
        service_tier="flex",
        max_output_tokens=FLEX_TOKENS,
        temperature=0,
        stream=True,
        extra_body={"ignore_eos": True},
    )
    events = stream.__aiter__()
    while (await anext(events)).type != "response.output_text.delta":
        pass
    flex = [asyncio.create_task(create(f"f{i}", "flex", FLEX_TOKENS)) for i in (1, 2, 3)]
    await asyncio.sleep(0.5)  # the flex requests reach the engine's queue first
    urgent = asyncio.create_task(create("p", "priority", 4))
    async for event in events:
        if event.type in ("response.completed", "response.incomplete"):  # (the token budget)
            finished.append("f0")
            tiers["f0"] = event.response.service_tier
    await asyncio.gather(urgent, *flex)
    return finished, tiers


def test_a_priority_request_overtakes_queued_flex_ones(queued_stack: Stack) -> None:
    finished, tiers = asyncio.run(_race(queued_stack.async_openai()))
    assert set(finished) == {"f0", "f1", "f2", "f3", "p"}
    assert all(finished.index("p") < finished.index(f) for f in ("f1", "f2", "f3")), finished
    assert tiers == {"f0": "flex", "f1": "flex", "f2": "flex", "f3": "flex", "p": "priority"}
    log = queued_stack.log_path.read_text(errors="replace")
    assert f"started (priority {-(2**32)})" in log  # the sidecar logs what vLLM got
    assert f"started (priority {2**32})" in log
