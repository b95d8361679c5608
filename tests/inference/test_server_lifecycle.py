"""SidecarServer's lifecycle: a stale socket at start; drain or cancel at stop()."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from inference.fake import FakeEngine
from inference.protocol import Final, Health, HealthReply, Started
from inference.server import SidecarServer
from tests.inference.client import Client, client, generate, serving


async def test_start_replaces_a_stale_socket_file(socket_path: Path) -> None:
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.write_text("stale")
    async with serving(socket_path), client(socket_path) as c:
        await c.send(Health())
        assert await c.recv() == HealthReply(healthy=True)


async def test_stop_drains_a_running_generation(socket_path: Path) -> None:
    engine = FakeEngine(token_delay=0.02, reply_tokens=15)
    server = SidecarServer(engine, socket_path, drain_timeout=10)
    await server.start()
    async with client(socket_path) as c:
        await c.send(generate())
        assert isinstance(await c.recv(), Started)
        started = time.monotonic()
        await server.stop()
        assert time.monotonic() - started > 0.1  # it waited for the tokens
        assert engine.running == 0
        assert not socket_path.exists()
        frames = await c.until_final(timeout=1)
        assert isinstance(frames[-1], Final) and frames[-1].finish_reason == "stop"
        assert frames[-1].usage.completion_tokens == 15
        assert len(frames) == 16
    with pytest.raises(OSError):
        await Client.connect(socket_path)


async def test_stop_cancels_after_the_drain_timeout(socket_path: Path) -> None:
    engine = FakeEngine(token_delay=0.02, reply_tokens=500)
    server = SidecarServer(engine, socket_path, drain_timeout=0.05)
    await server.start()
    async with client(socket_path) as c:
        await c.send(generate())
        assert isinstance(await c.recv(), Started)
        started = time.monotonic()
        await server.stop()
        assert time.monotonic() - started < 1.0
        assert engine.running == 0
        assert not socket_path.exists()
        frames: list[object] = []
        try:
            while (frame := await c.recv(timeout=0.2)) is not None:
                frames.append(frame)
        except TimeoutError:
            pass
        assert not any(isinstance(f, Final) and f.finish_reason != "abort" for f in frames)
        assert len(frames) < 100


async def test_no_generation_outlives_stop(socket_path: Path) -> None:
    engine = FakeEngine(token_delay=0.02, reply_tokens=15)
    server = SidecarServer(engine, socket_path, drain_timeout=10)
    await server.start()
    async with client(socket_path) as a, client(socket_path) as b:
        await a.send(generate())
        assert isinstance(await a.recv(), Started)
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.05)  # the drain is under way
        await b.send(generate())
        await b.recv()  # refused (ERROR) or accepted (STARTED): either is fine ...
        await stopping
        assert engine.running == 0  # ... but nothing may still run once stop() returns
