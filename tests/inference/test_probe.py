"""`python -m inference.probe`: exit 0 for a healthy sidecar, else 1 with one line."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from inference.fake import FakeEngine
from inference.probe import ProbeFailed, probe
from inference.protocol import HealthReply
from inference.server import SidecarServer
from tests.inference.client import serving

ROOT = Path(__file__).resolve().parents[2]


async def run_probe(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inference.probe",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_healthy_sidecar_exits_0(socket_path: Path) -> None:
    async with serving(socket_path, model="tiny"):
        code, out, err = await run_probe("--socket", str(socket_path), "--timeout", "10")
    assert (code, err) == (0, "")
    assert out == "healthy: tiny (fake)\n"


async def test_no_socket_exits_1_with_one_line(socket_path: Path) -> None:
    code, out, err = await run_probe("--socket", str(socket_path))
    assert (code, out) == (1, "")
    assert err == (
        f"python -m inference.probe: no socket at {socket_path} "
        "(the sidecar is not listening yet)\n"
    )


async def test_an_unhealthy_engine_fails(
    socket_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def sick(self: FakeEngine) -> HealthReply:
        return HealthReply(healthy=False, detail="EngineDeadError: the engine core died")

    monkeypatch.setattr(FakeEngine, "health", sick)
    async with serving(socket_path):
        with pytest.raises(ProbeFailed, match="unhealthy: EngineDeadError: the engine core died"):
            await asyncio.to_thread(probe, str(socket_path), 5.0)


async def test_a_silent_socket_times_out(socket_path: Path) -> None:
    """A listener that never answers (a wedged sidecar): the probe fails within its timeout."""
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(socket_path))
        listener.listen()
        with pytest.raises(ProbeFailed, match=r"no answer from .* within 0.3 s"):
            await asyncio.to_thread(probe, str(socket_path), 0.3)


async def test_a_stale_socket_file_is_refused(socket_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(socket_path))  # bound, never listening: what a killed sidecar leaves
        with pytest.raises(ProbeFailed, match="connection refused"):
            await asyncio.to_thread(probe, str(socket_path), 1.0)


async def test_every_shard_is_probed(socket_path: Path) -> None:
    """A sharded sidecar is healthy only when every shard its handshake names answers."""
    first = SidecarServer(FakeEngine(), socket_path, shard=0, shards=2)
    await first.start()
    try:
        with pytest.raises(ProbeFailed, match=rf"no socket at {socket_path}\.1"):
            await asyncio.to_thread(probe, str(socket_path), 2.0)
        second = SidecarServer(FakeEngine(), f"{socket_path}.1", shard=1, shards=2)
        await second.start()
        try:
            line = await asyncio.to_thread(probe, str(socket_path), 2.0)
            assert line.endswith("(fake, 2 shards)")
        finally:
            await second.stop()
    finally:
        await first.stop()
