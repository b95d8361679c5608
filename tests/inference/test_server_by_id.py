"""Generations known by request id: CANCEL and QUERY from another connection, duplicate ids,
and the fake engine's finish directives crossing the real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from inference.protocol import (
    Cancel,
    CancelReply,
    Delta,
    Error,
    ErrorCode,
    Final,
    FinishReason,
    Query,
    QueryReply,
    Sampling,
    Started,
)
from tests.inference.client import client, generate, serving, wait_for


async def test_cancel_by_id_from_another_connection(socket_path: Path) -> None:
    async with (
        serving(socket_path, token_delay=0.02, reply_tokens=400) as (_, engine),
        client(socket_path) as worker_a,
        client(socket_path) as worker_b,
    ):
        await worker_a.send(generate(request_id="resp_1"))
        assert isinstance(await worker_a.recv(), Started)
        assert isinstance(await worker_a.recv(), Delta)
        await worker_b.send(Query(request_id="resp_1"))
        query = await worker_b.recv()
        assert isinstance(query, QueryReply) and query.running and query.prompt_tokens > 0
        await worker_b.send(Cancel(request_id="resp_1", reason="test"))
        assert await worker_b.recv() == CancelReply(request_id="resp_1", cancelled=True)
        frames = await worker_a.until_final()
        final = frames[-1]
        assert isinstance(final, Final) and final.finish_reason == FinishReason.ABORT
        assert final.usage.completion_tokens >= 1  # what was generated before the cancel
        assert await wait_for(lambda: engine.running == 0)
        await worker_b.send(Query(request_id="resp_1"))
        assert await worker_b.recv() == QueryReply(request_id="resp_1", running=False)
        # the cancelled generation's connection takes the next request
        await worker_a.send(generate(request_id="resp_2", sampling=Sampling(max_tokens=2)))
        frames = await worker_a.until_final()
        assert isinstance(frames[-1], Final) and frames[-1].finish_reason == FinishReason.LENGTH


async def test_cancel_of_an_unknown_id_says_so(socket_path: Path) -> None:
    async with serving(socket_path), client(socket_path) as c:
        await c.send(Cancel(request_id="resp_none"))
        assert await c.recv() == CancelReply(request_id="resp_none", cancelled=False)


async def test_a_running_request_id_cannot_be_reused(socket_path: Path) -> None:
    async with (
        serving(socket_path, token_delay=0.02, reply_tokens=400),
        client(socket_path) as a,
        client(socket_path) as b,
    ):
        await a.send(generate(request_id="same"))
        assert isinstance(await a.recv(), Started)
        await b.send(generate(request_id="same"))
        reply = await b.recv()
        assert isinstance(reply, Error) and reply.code == ErrorCode.INVALID_REQUEST
        assert "already running" in reply.message


async def test_dropped_connection_forgets_its_id(socket_path: Path) -> None:
    async with serving(socket_path, token_delay=0.02, reply_tokens=400) as (_, engine):
        async with client(socket_path) as a:
            await a.send(generate(request_id="gone"))
            assert isinstance(await a.recv(), Started)
        assert await wait_for(lambda: engine.running == 0)
        async with client(socket_path) as b:
            await b.send(Query(request_id="gone"))
            assert await b.recv() == QueryReply(request_id="gone", running=False)


async def test_engine_finish_reasons_cross_the_wire(socket_path: Path) -> None:
    async with serving(socket_path), client(socket_path) as c:
        for reason in FinishReason:
            await c.send(generate(f"fake:finish={reason.value}"))
            final = (await c.until_final())[-1]
            assert isinstance(final, Final) and final.finish_reason == reason
            assert (final.error is not None) == (reason == FinishReason.ERROR)


async def test_exception_mid_stream_is_an_internal_error(socket_path: Path) -> None:
    async with serving(socket_path) as (_, engine), client(socket_path) as c:
        await c.send(generate("fake:raise"))
        frames = await c.until_final()
        assert isinstance(frames[0], Started)
        error = frames[-1]
        assert isinstance(error, Error) and error.code == ErrorCode.INTERNAL
        assert "RuntimeError" in error.message
        await asyncio.sleep(0)
        assert engine.running == 0
