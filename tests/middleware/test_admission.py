"""Admission control (middleware/admission.py, the sidecar's bound from HELLO): a fake
sidecar of capacity 1 with a queue of 1 holds two generations; a third create is a fast 429,
and the count goes back to zero however streams end (finished, client gone, failed).
Draining: new requests get 503 with Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from sanic import Sanic

from inference.fake import FakeEngine
from inference.server import DEFAULT_CAPACITY, SidecarServer
from tests import spec
from tests.frontend.routes.test_responses_routes import assert_error, portico
from tests.frontend.scripted import reply
from tests.stack import Stack

SLOW = {"model": "fake-model", "input": "hi", "stream": True}


@pytest.fixture(scope="module")
def small_stack() -> Iterator[Stack]:
    stack = Stack(
        "--fake",
        "--fake-max-num-seqs",
        "1",
        "--fake-token-delay",
        "0.05",
        "--fake-reply-tokens",
        "200",
        env={"PORTICO_MAX_QUEUED_REQUESTS": "1"},
    ).start()
    yield stack
    stack.stop()


async def _hold(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> int:
    """Open a stream and read its first bytes; the caller cancels it when it wants."""
    async with client.stream("POST", url, json=body) as answer:
        async for _ in answer.aiter_bytes():
            await asyncio.sleep(10)  # hold it open
    return answer.status_code


async def _fill(stack: Stack, bodies: list[dict[str, Any]]) -> list[asyncio.Task[int]]:
    client = httpx.AsyncClient(timeout=30)
    tasks = [asyncio.create_task(_hold(client, stack.url("/v1/responses"), b)) for b in bodies]
    deadline = time.monotonic() + 10
    while (await asyncio.to_thread(stack.stats)).running < len(bodies):
        assert time.monotonic() < deadline, "the streams did not start"
        await asyncio.sleep(0.05)
    return tasks


def _refused(stack: Stack) -> httpx.Response:
    with httpx.Client(timeout=30) as client:
        return client.post(stack.url("/v1/responses"), json={**SLOW, "stream": False})


async def test_beyond_capacity_and_queue_a_create_is_a_fast_429(small_stack: Stack) -> None:
    tasks = await _fill(small_stack, [SLOW, SLOW])
    started = time.monotonic()
    refused = await asyncio.to_thread(_refused, small_stack)
    assert time.monotonic() - started < 2  # refused at once, not queued
    assert refused.status_code == 429, refused.text
    body = refused.json()
    spec.validate_error(body)
    assert body["error"]["code"] == "engine_overloaded"
    assert refused.headers["retry-after"] == "1" and refused.headers["retry-after-ms"] == "1000"
    sdk = small_stack.openai()
    with pytest.raises(openai.RateLimitError) as caught:
        await asyncio.to_thread(sdk.responses.create, model="fake-model", input="hi")
    assert caught.value.code == "engine_overloaded"
    for task in tasks:  # the clients leave: their generations are aborted
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert (await asyncio.to_thread(small_stack.wait_idle, 10)).running == 0
    answer = await asyncio.to_thread(_refused, small_stack)  # room again
    assert answer.status_code == 200
    metrics = httpx.get(small_stack.url("/metrics")).text
    assert 'portico_admission_rejections_total{reason="queue_full"}' in metrics


async def test_failed_and_finished_generations_free_their_place(small_stack: Stack) -> None:
    failing = {**SLOW, "input": "fake:raise"}
    for _ in range(3):  # more than the bound, one after another
        with httpx.Client(timeout=30) as client:
            client.post(small_stack.url("/v1/responses"), json={**failing, "stream": False})
    assert (await asyncio.to_thread(small_stack.wait_idle, 10)).running == 0
    short = {"model": "fake-model", "input": "hi", "max_output_tokens": 2}
    for _ in range(4):
        with httpx.Client(timeout=30) as client:
            assert client.post(small_stack.url("/v1/responses"), json=short).status_code == 200
    tasks = await _fill(small_stack, [SLOW, SLOW])  # both places are free again
    assert (await asyncio.to_thread(_refused, small_stack)).status_code == 429
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert (await asyncio.to_thread(small_stack.wait_idle, 10)).running == 0


def test_the_bound_is_capacity_plus_queue(tmp_path: Any) -> None:
    server = SidecarServer(FakeEngine(max_num_seqs=4), tmp_path / "s.sock")
    assert server.admission_bound(None) is None  # a client from before admission control
    assert server.admission_bound(0) == 4 + 8  # auto: twice the capacity waits
    assert server.admission_bound(3) == 7
    unknown = SidecarServer(FakeEngine(max_num_seqs=0), tmp_path / "u.sock")
    assert unknown.admission_bound(0) == 3 * DEFAULT_CAPACITY


async def test_a_draining_server_answers_503_with_retry_after() -> None:
    p = portico(reply("a"))

    @p.app.before_server_start
    async def stopping(app: Sanic) -> None:  # after the layer's own start: as if stopping
        app.ctx.draining = True

    refused = await p.create(input="hi")
    assert_error(refused, 503, "service_unavailable")
    assert refused.headers["retry-after"]
    assert p.client.requests == []
    assert (await p.request("GET", "/livez")).status_code == 200
