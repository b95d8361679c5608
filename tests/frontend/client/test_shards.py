"""The sharded sidecar client against in-process shards that speak the real protocol: each
shard a SidecarServer with its own fake engine on its own socket (protocol/shards.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from frontend.client.shards import ShardedSidecarClient
from inference.fake import FakeEngine
from inference.protocol import (
    ChatMessage,
    ErrorCode,
    Final,
    FinishReason,
    GenerateRequest,
    RequestError,
    Role,
    Sampling,
    StatsReply,
    shard_socket,
)
from inference.server import SidecarServer
from tests.inference.client import wait_for
from tests.stack import Stack


@contextlib.asynccontextmanager
async def shards(
    path: Path, count: int, *, start: int | None = None, **fake: object
) -> AsyncIterator[list[SidecarServer]]:
    """`count` shards on path, path.1, ...; only the first `start` listen at first."""
    servers = [
        SidecarServer(
            FakeEngine(**fake),  # type: ignore[arg-type]
            shard_socket(str(path), index),
            shard=index,
            shards=count,
        )
        for index in range(count)
    ]
    for server in servers[: count if start is None else start]:
        await server.start()
    try:
        yield servers
    finally:
        for server in servers:
            if server._server is not None:
                await server.stop()


@contextlib.asynccontextmanager
async def sharded(path: Path) -> AsyncIterator[ShardedSidecarClient]:
    client = ShardedSidecarClient(str(path), health_interval=0.05)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


def request(rid: str, max_tokens: int | None = None) -> GenerateRequest:
    return GenerateRequest(
        request_id=rid,
        messages=[ChatMessage(role=Role.USER, content="hi")],
        sampling=Sampling(max_tokens=max_tokens),
    )


async def run(client: ShardedSidecarClient, rid: str) -> Final:
    generation = await client.generate(request(rid, max_tokens=3))
    last: Final | None = None
    async for batch in generation.batches():
        final = batch[-1]
        last = final if isinstance(final, Final) else last
    await generation.close()
    assert last is not None
    return last


def totals(servers: list[SidecarServer]) -> list[int]:
    return [server.engine.stats().total_requests for server in servers]


async def test_the_handshake_names_the_shards_and_the_client_opens_each(
    socket_path: Path,
) -> None:
    async with shards(socket_path, 3), sharded(socket_path) as client:
        assert await wait_for(lambda: client.ready, timeout=5)
        assert client.handshake is not None and client.handshake.shards == 3
        assert [s.path for s in client.shards] == [
            str(socket_path),
            f"{socket_path}.1",
            f"{socket_path}.2",
        ]
        assert [s.handshake.shard for s in client.shards if s.handshake] == [0, 1, 2]


async def test_generations_go_to_every_shard_in_turn(socket_path: Path) -> None:
    async with shards(socket_path, 3) as servers, sharded(socket_path) as client:
        assert await wait_for(lambda: client.ready, timeout=5)
        for i in range(9):
            assert (await run(client, f"resp_{i}")).finish_reason == FinishReason.LENGTH
        assert totals(servers) == [3, 3, 3]
        stats = await client.stats()
        assert stats.total_requests == 9  # summed over the shards
        assert stats.prefix_cache_queries == sum(
            s.engine.stats().prefix_cache_queries for s in servers
        )


async def test_not_ready_until_every_shard_answers(socket_path: Path) -> None:
    async with shards(socket_path, 2, start=1) as servers, sharded(socket_path) as client:
        assert await wait_for(lambda: len(client.shards) == 2, timeout=5)
        await asyncio.sleep(0.2)
        assert not client.ready  # shard 1 is not listening yet
        for i in range(3):  # meanwhile generations go to the shard that is up
            await run(client, f"resp_{i}")
        assert totals(servers) == [3, 0]
        await servers[1].start()
        assert await wait_for(lambda: client.ready, timeout=5)
        for i in range(3, 7):
            await run(client, f"resp_{i}")
        assert totals(servers)[1] == 2


async def test_cancel_and_query_by_id_reach_the_shard_that_runs_it(socket_path: Path) -> None:
    """Another worker's client does not know which shard took the generation."""
    async with (
        shards(socket_path, 3, token_delay=0.02, reply_tokens=400) as servers,
        sharded(socket_path) as worker_a,
        sharded(socket_path) as worker_b,
    ):
        assert await wait_for(lambda: worker_a.ready and worker_b.ready, timeout=5)
        generations = [await worker_a.generate(request(f"resp_{i}")) for i in range(3)]
        assert [len(s._running) for s in servers] == [1, 1, 1]
        for i in range(3):
            query = await worker_b.query(f"resp_{i}")
            assert query.running and query.request_id == f"resp_{i}"
            assert await worker_b.cancel(f"resp_{i}", "test")
        for generation in generations:
            finals = [m async for batch in generation.batches() for m in batch]
            assert isinstance(finals[-1], Final)
            assert finals[-1].finish_reason == FinishReason.ABORT
            await generation.close()
        assert not await worker_b.cancel("resp_0")
        assert not (await worker_b.query("resp_0")).running


async def test_fresh_clients_fill_every_shard_before_one_is_refused(socket_path: Path) -> None:
    """Six workers' first generations (a fresh client each) on 2 shards of 3 places: a full
    shard passes a generation on to the next, so all six run and the seventh is refused."""
    async with shards(socket_path, 2, token_delay=0.05, reply_tokens=400, max_num_seqs=4) as (
        servers
    ):
        clients = [
            ShardedSidecarClient(str(socket_path), health_interval=0.05, max_queued_requests=2)
            for _ in range(7)
        ]
        for client in clients:
            await client.start()
        try:
            assert await wait_for(lambda: all(client.ready for client in clients), timeout=5)
            running = [
                await client.generate(request(f"resp_{i}")) for i, client in enumerate(clients[:6])
            ]
            assert [len(server._running) for server in servers] == [3, 3]
            with pytest.raises(RequestError) as refused:
                await clients[6].generate(request("resp_7"))
            assert refused.value.code == ErrorCode.QUEUE_FULL
            for generation in running:
                generation.abort()
        finally:
            for client in clients:
                await client.stop()


async def test_a_shard_that_cannot_be_asked_does_not_hide_the_others(socket_path: Path) -> None:
    async with (
        shards(socket_path, 2, token_delay=0.02, reply_tokens=400) as servers,
        sharded(socket_path) as client,
    ):
        assert await wait_for(lambda: client.ready, timeout=5)
        generations = [await client.generate(request(f"resp_{i}")) for i in range(2)]
        owner = next(i for i, server in enumerate(servers) if "resp_0" in server._running)
        other = servers[1 - owner]
        for generation in generations:
            if generation.request_id != "resp_0":
                generation.abort()
        assert await wait_for(lambda: not other._running, timeout=5)
        await other.stop()  # that shard is gone; its socket with it
        assert (await client.query("resp_0")).running
        assert await client.cancel("resp_0")
        assert (await client.stats()).total_requests == 1  # the owner's count alone
        generations[0].abort()


async def test_the_engine_gauges_are_the_freshest_shards(socket_path: Path) -> None:
    """vLLM sends each step's scheduler figures to one shard: another shard's older figures
    (a busy engine, seconds ago) must not hide that the engine is idle now."""
    async with shards(socket_path, 2) as servers, sharded(socket_path) as client:
        assert await wait_for(lambda: client.ready, timeout=5)
        stale = StatsReply(
            running=0, engine_figures=True, engine_running=9, kv_cache_usage=0.5, figures_at=1.0
        )
        servers[1].engine.stats = lambda: stale  # type: ignore[method-assign]
        stats = await client.stats()
        assert (stats.engine_running, stats.kv_cache_usage) == (0, 0.0)  # shard 0's, now


async def test_the_engine_steps_of_the_shards_add_up(socket_path: Path) -> None:
    """Each step's figures reach one shard: the engine's steps are the shards' sum."""
    async with shards(socket_path, 2) as servers, sharded(socket_path) as client:
        assert await wait_for(lambda: client.ready, timeout=5)
        for server, steps in zip(servers, (6, 3), strict=True):
            reply = StatsReply(
                running=0,
                engine_figures=True,
                engine_steps=steps,
                engine_prefill_steps=steps // 3,
                engine_decode_steps=steps - steps // 3,
            )
            server.engine.stats = lambda reply=reply: reply  # type: ignore[method-assign,misc]
        stats = await client.stats()
        assert stats.engine_steps == 9
        assert (stats.engine_prefill_steps, stats.engine_decode_steps) == (3, 6)


async def test_admission_is_shared_out_over_the_shards(socket_path: Path) -> None:
    """The pod's bound (capacity plus queue) is split evenly: 4 + 2 over 2 shards is 3 each."""
    async with shards(socket_path, 2, token_delay=0.05, reply_tokens=400, max_num_seqs=4) as (
        servers
    ):
        assert servers[0].admission_bound(2) == 3
        client = ShardedSidecarClient(str(socket_path), health_interval=0.05, max_queued_requests=2)
        await client.start()
        try:
            assert await wait_for(lambda: client.ready, timeout=5)
            running = [await client.generate(request(f"resp_{i}")) for i in range(6)]
            with pytest.raises(RequestError) as refused:
                await client.generate(request("resp_7"))
            assert refused.value.code == ErrorCode.QUEUE_FULL
            for generation in running:
                generation.abort()
        finally:
            await client.stop()


@pytest.fixture(scope="module")
def sharded_stack() -> Iterator[Stack]:
    """The launcher with two Sanic workers on a fake sidecar of two shards."""
    stack = Stack(
        "--fake",
        "--api-server-count",
        "2",
        "--fake-token-delay",
        "0.02",
        "--fake-reply-tokens",
        "400",
        workers=2,
    ).start()
    yield stack
    assert stack.stop() == 0, stack.log()


def test_two_workers_on_two_shards_stream_and_cancel(sharded_stack: Stack) -> None:
    """Background responses land on both shards; a cancel through either worker finds each."""
    client = sharded_stack.openai()
    started = [
        client.responses.create(model="fake-model", input="hi", background=True) for _ in range(4)
    ]
    for response in started:
        assert client.responses.cancel(response.id).status == "cancelled"
    assert sharded_stack.wait_idle().running == 0
    for _ in range(4):
        events = client.responses.create(
            model="fake-model", input="hi", max_output_tokens=5, stream=True
        )
        assert [e.type for e in events][-1] == "response.incomplete"  # 5 of 400 tokens
    stats = sharded_stack.stats()
    assert stats.total_requests == 8  # both shards' counts, summed

    totals = sharded_stack.shard_totals()
    assert len(totals) == 2 and min(totals) >= 1, totals  # both shards took generations
    metrics = httpx.get(sharded_stack.url("/metrics")).text
    assert "portico_sidecar_up 1.0" in metrics
