"""A sharded sidecar on the real engine (`--api-server-count 2`): the first process starts
vLLM's engine core and two shard processes, each an AsyncLLM client with its own socket
(inference/engine/shards.py). Generations spread over both shards, a cancel by id finds
the shard that runs it, STATS adds the shards up, and SIGINT stops everything cleanly; with
two data-parallel engine cores too. The shards hold new generations to a 20 ms window
(`--prefill-window-ms`), admit new prompts on every second engine step
(`--prefill-schedule-interval 2`: inference/engine/cadence.py) and count prefill and decode
steps (vLLM's iteration details)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from inference.embedded_model import default_model_dir
from inference.protocol import ChatMessage, GenerateRequest, Role, Sampling
from tests.integration.conftest import ENGINE_ARGS, MODEL, OTHER_MODEL
from tests.stack import Stack, sidecar_client

CADENCED = "inference.engine.cadence.CadencedScheduler"  # AsyncScheduler on a GPU


@pytest.fixture(scope="module")
def sharded_stack() -> Iterator[Stack]:
    model = ["--model", OTHER_MODEL, "--served-model-name", MODEL] if OTHER_MODEL else []
    stack = Stack(
        *model,
        *ENGINE_ARGS,
        "--api-server-count",
        "2",
        "--prefill-window-ms",
        "20",
        "--prefill-schedule-interval",
        "2",
        "--enable-logging-iteration-details",
        env={"VLLM_CPU_KVCACHE_SPACE": "1"},
    ).start(timeout=600)
    yield stack
    assert stack.stop() == 0, stack.log()
    assert "Traceback" not in stack.log(), stack.log()
    left = subprocess.run(["pgrep", "-f", stack.socket], capture_output=True, text=True)
    assert left.stdout == "", f"processes left behind: {left.stdout}"


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
    totals = sharded_stack.shard_totals()
    assert len(totals) == 2 and sum(totals) >= 6 and min(totals) >= 2, totals  # in turn
    assert sharded_stack.stats().total_requests == sum(totals)


def test_held_generations_all_run_and_the_step_kinds_add_up(sharded_stack: Stack) -> None:
    """Generations that arrive while others run wait for the window's boundary and the
    engine core's prefill cadence, then all run; the shards' prefill and decode steps add up
    on STATS and /metrics."""
    assert f"scheduler class {CADENCED}" in sharded_stack.log()  # the core's, not vLLM's
    client = sharded_stack.async_openai()

    async def burst() -> list[int]:
        replies = await asyncio.gather(
            *(
                client.responses.create(model=MODEL, input=f"Count to {n}.", max_output_tokens=6)
                for n in range(8)
            )
        )
        return [reply.usage.output_tokens for reply in replies if reply.usage]

    assert [n > 0 for n in asyncio.run(burst())] == [True] * 8
    stats = sharded_stack.stats()
    assert stats.engine_prefill_steps >= 1 and stats.engine_decode_steps >= 5, stats
    assert stats.engine_prefill_steps + stats.engine_decode_steps <= stats.engine_steps
    text = httpx.get(sharded_stack.url("/metrics"), timeout=30).text
    kinds = {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "portico_engine_steps_by_kind_total"
    }
    # the engine is idle now: the scrape's STATS finds the same counts
    assert kinds == {
        "prefill": stats.engine_prefill_steps,
        "decode": stats.engine_decode_steps,
    }


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


def test_data_parallel_engines_behind_shards(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`--data-parallel-size 2 --api-server-count 2`: two engine cores and vLLM's DP
    coordinator, each shard a client of both engines (the two-GPU arrangement, on the CPU)."""
    if OTHER_MODEL:
        pytest.skip("two engine copies of the embedded model on the CPU")
    socket = str(tmp_path_factory.mktemp("dp", numbered=True) / "s.sock")
    if len(socket) > 90:  # AF_UNIX paths are short
        socket = f"/tmp/portico-dp-{os.getpid()}.sock"
    cmd = [sys.executable, "-m", "inference", "--socket", socket, *ENGINE_ARGS]
    cmd += ["--data-parallel-size", "2", "--api-server-count", "2"]
    cmd += ["--prefill-schedule-interval", "2"]  # vLLM throttles DP engines itself
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
    log = Path(socket).with_suffix(".log")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--model", str(default_model_dir()), "--served-model-name", MODEL],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:

        async def run() -> tuple[list[int], bool]:
            deadline = time.monotonic() + 300
            while not Path(f"{socket}.1").exists():
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the shards did not start"
                await asyncio.sleep(0.5)
            async with sidecar_client(socket) as client:
                assert client.ready and client.handshake and client.handshake.shards == 2
                for n in range(4):
                    generation = await client.generate(
                        GenerateRequest(
                            request_id=f"resp_dp_{n}",
                            messages=[ChatMessage(role=Role.USER, content="Hi")],
                            sampling=Sampling(max_tokens=4),
                        )
                    )
                    async for _ in generation.batches():
                        pass
                    await generation.close()
                totals = [(await shard.stats()).total_requests for shard in client.shards]
                long = await client.generate(
                    GenerateRequest(
                        request_id="resp_dp_long",
                        messages=[ChatMessage(role=Role.USER, content="A long story")],
                        sampling=Sampling(max_tokens=1500),
                    )
                )
                cancelled = await client.cancel("resp_dp_long")
                async for _ in long.batches():
                    pass
                await long.close()
                return totals, cancelled

        totals, cancelled = asyncio.run(run())
        assert totals == [2, 2] and cancelled, (totals, log.read_text()[-3000:])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 0, log.read_text()[-3000:]
        assert "Traceback" not in log.read_text()
        assert "inference.engine.cadence" not in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = subprocess.run(["pgrep", "-f", socket], capture_output=True, text=True)
    assert left.stdout == "", f"processes left behind: {left.stdout}"
