"""SidecarServer's conversation over a real Unix socket, frame by frame, with the FakeEngine."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import cast

import pytest

from inference.fake import REPLY
from inference.protocol import (
    PROTOCOL_VERSION,
    Cancel,
    ChatMessage,
    CountTokens,
    Delta,
    Error,
    Final,
    Handshake,
    Health,
    HealthReply,
    Hello,
    Kind,
    Role,
    Sampling,
    Started,
    Stats,
    StatsReply,
    TokenCount,
    encode,
)
from tests.inference.client import Client, client, generate, serving, wait_for


async def test_hello_gets_handshake(socket_path: Path) -> None:
    async with serving(socket_path, model="m1", max_model_len=321), client(socket_path, False) as c:
        await c.send(Hello(protocol_version=PROTOCOL_VERSION))
        reply = await c.recv()
        assert reply == Handshake(
            protocol_version=PROTOCOL_VERSION,
            model_names=["m1"],
            max_model_len=321,
            engine="fake",
            tool_call_parser="fake",
            max_num_seqs=256,  # the fake's capacity (admission control)
        )
        assert socket_path.stat().st_mode & 0o777 == 0o660


async def test_version_mismatch_closes(socket_path: Path) -> None:
    async with serving(socket_path), client(socket_path, False) as c:
        await c.send(Hello(protocol_version=PROTOCOL_VERSION + 1))
        reply = await c.recv()
        assert isinstance(reply, Error) and reply.code == "version_mismatch"
        assert await c.recv() is None


async def test_hello_without_a_version_is_refused(socket_path: Path) -> None:
    async with serving(socket_path), client(socket_path, False) as c:
        await c.send_raw(struct.pack(">IB", 2, Kind.HELLO) + b"\x80")  # HELLO {}
        reply = await c.recv()
        assert isinstance(reply, Error) and reply.code in ("bad_frame", "version_mismatch")
        assert await c.recv() is None


async def test_first_frame_must_be_hello(socket_path: Path) -> None:
    async with serving(socket_path), client(socket_path, False) as c:
        await c.send(Health())
        reply = await c.recv()
        assert isinstance(reply, Error) and reply.code == "bad_frame"
        assert await c.recv() is None


async def test_generate_streams_started_deltas_final(socket_path: Path) -> None:
    async with serving(socket_path), client(socket_path) as c:
        await c.send(generate("one two three"))
        frames = await c.until_final()
        started, *deltas, final = frames
        assert started == Started(prompt_tokens=5, max_tokens=4096 - 5)
        assert deltas and all(isinstance(d, Delta) for d in deltas)
        assert "".join(d.text for d in cast(list[Delta], deltas)) == " ".join(REPLY)
        assert isinstance(final, Final) and final.finish_reason == "stop"
        assert final.usage.prompt_tokens == 5
        assert final.usage.completion_tokens == len(REPLY)
        # the connection takes another generation after the first one ends
        await c.send(generate(sampling=Sampling(max_tokens=2)))
        *_, final = await c.until_final()
        assert isinstance(final, Final) and final.finish_reason == "length"
        assert final.usage.completion_tokens == 2


async def test_cancel_mid_stream(socket_path: Path) -> None:
    async with (
        serving(socket_path, token_delay=0.02, reply_tokens=200) as (_, engine),
        client(socket_path) as c,
    ):
        await c.send(generate())
        assert isinstance(await c.recv(), Started)
        assert isinstance(await c.recv(), Delta)
        assert engine.running == 1
        await c.send(Cancel())
        frames = await c.until_final(timeout=2)
        assert isinstance(frames[-1], Final) and frames[-1].finish_reason == "abort"
        assert all(isinstance(f, Delta) for f in frames[:-1])
        assert engine.running == 0
        await c.send(Health())  # no stray frame after the abort
        assert await c.recv() == HealthReply(healthy=True)


async def test_cancel_with_nothing_running_is_ignored(socket_path: Path) -> None:
    async with serving(socket_path), client(socket_path) as c:
        await c.send(Cancel())
        await c.send(generate())
        frames = await c.until_final()
        assert isinstance(frames[-1], Final) and frames[-1].finish_reason == "stop"
        await c.send(Cancel())  # after FINAL: too late, nothing to answer
        await c.send(Stats())
        assert isinstance(await c.recv(), StatsReply)


async def test_dropped_connection_aborts_the_generation(socket_path: Path) -> None:
    async with serving(socket_path, token_delay=0.02, reply_tokens=200) as (_, engine):
        c = await Client.connect(socket_path)
        assert isinstance(await c.hello(), Handshake)
        await c.send(generate())
        assert isinstance(await c.recv(), Started)
        assert isinstance(await c.recv(), Delta)
        assert engine.running == 1
        await c.close()
        assert await wait_for(lambda: engine.running == 0), "generation still running"


async def test_context_too_long_keeps_the_connection(socket_path: Path) -> None:
    async with serving(socket_path, max_model_len=10) as (_, engine), client(socket_path) as c:
        await c.send(generate("w " * 20))
        reply = await c.recv()
        assert isinstance(reply, Error)
        assert (reply.code, reply.param) == ("context_length_exceeded", "input")
        assert engine.running == 0
        await c.send(Health())
        assert await c.recv() == HealthReply(healthy=True)
        await c.send(generate("ok", sampling=Sampling(max_tokens=3)))
        frames = await c.until_final()
        assert isinstance(frames[0], Started) and isinstance(frames[-1], Final)


async def test_control_replies(socket_path: Path) -> None:
    async with serving(socket_path, max_model_len=777), client(socket_path) as c:
        await c.send(Health())
        assert await c.recv() == HealthReply(healthy=True)
        await c.send(Stats())
        stats = await c.recv()
        assert isinstance(stats, StatsReply) and stats.figures_at > 0
        assert stats == StatsReply(
            running=0, total_requests=0, engine_figures=True, figures_at=stats.figures_at
        )
        await c.send(CountTokens(messages=[ChatMessage(role=Role.USER, content="a b c")]))
        assert await c.recv() == TokenCount(tokens=5, max_model_len=777)
        await c.send(Delta(text="not for the sidecar"))
        reply = await c.recv()
        assert isinstance(reply, Error) and reply.code == "bad_frame"
        await c.send(Health())  # an unexpected but well-formed frame does not close
        assert await c.recv() == HealthReply(healthy=True)


async def test_stats_sees_a_running_generation(socket_path: Path) -> None:
    async with (
        serving(socket_path, token_delay=0.02, reply_tokens=200),
        client(socket_path) as gen,
        client(socket_path) as ctl,
    ):
        await gen.send(generate())
        assert isinstance(await gen.recv(), Started)
        await ctl.send(Stats())
        stats = await ctl.recv()
        assert isinstance(stats, StatsReply) and (stats.running, stats.total_requests) == (1, 1)
        # the fake's scheduler figures: the one generation runs, half its prompt was cached
        assert stats.engine_figures and (stats.engine_running, stats.engine_waiting) == (1, 0)
        assert stats.kv_cache_usage > 0 and stats.prefix_cache_queries > 0
        assert stats.prefix_cache_hits == stats.prefix_cache_queries // 2


@pytest.mark.parametrize(
    "garbage",
    [
        struct.pack(">IB", 3, 0x99) + b"\x80\x80",  # unknown kind
        struct.pack(">IB", 3, 0x01) + b"\xc1\xc1",  # HELLO kind, undecodable body
        struct.pack(">IB", 1 << 30, 0x10),  # oversized GENERATE
        struct.pack(">IB", 0, 0x20),  # zero length
        b"GET / HTTP/1.1\r\n\r\n",
    ],
    ids=["unknown-kind", "bad-body", "oversized", "zero-length", "http"],
)
async def test_garbage_after_handshake(socket_path: Path, garbage: bytes) -> None:
    async with serving(socket_path):
        async with client(socket_path) as c:
            await c.send_raw(garbage)
            reply = await c.recv()
            assert isinstance(reply, Error) and reply.code == "bad_frame"
            assert await c.recv() is None
        async with client(socket_path) as c:  # the server still serves new connections
            await c.send(Health())
            assert await c.recv() == HealthReply(healthy=True)


async def test_second_generate_on_a_busy_connection(socket_path: Path) -> None:
    async with (
        serving(socket_path, token_delay=0.01, reply_tokens=30) as (_, engine),
        client(socket_path) as c,
    ):
        await c.send(generate())
        assert isinstance(await c.recv(), Started)
        await c.send(generate())
        frames = await c.until_final()
        errors = [f for f in frames if isinstance(f, Error)]
        assert len(errors) == 1 and errors[0].code == "invalid_request"
        frames = await c.until_final() if frames[-1] is errors[0] else frames
        assert isinstance(frames[-1], Final) and frames[-1].finish_reason == "stop"
        assert engine.total == 1


async def test_cancel_in_the_same_write_as_generate(socket_path: Path) -> None:
    async with serving(socket_path, token_delay=0.02) as (_, engine), client(socket_path) as c:
        await c.send_raw(encode(generate()) + encode(Cancel()))
        frames = await c.until_final(timeout=2)
        assert isinstance(frames[-1], Final) and frames[-1].finish_reason == "abort"
        assert engine.running == 0
        await c.send(Health())
        assert await c.recv() == HealthReply(healthy=True)
