"""`python -m inference` as a process: the fake serves and stops on SIGTERM; a bad model fails."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.protocol import (
    ChatMessage,
    Final,
    GenerateRequest,
    Handshake,
    Health,
    HealthReply,
    Role,
)
from tests.inference.client import Client

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


def sidecar(socket_path: Path, *args: str, stderr_file: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with stderr_file.open("wb") as err:
        return subprocess.Popen(
            [PYTHON, "-m", "inference", "--socket", str(socket_path), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


async def wait_for_socket(path: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"the sidecar exited early with {proc.returncode}"
        assert time.monotonic() < deadline, "the sidecar did not open its socket"
        await asyncio.sleep(0.02)


async def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (rc := proc.poll()) is None:
        assert time.monotonic() < deadline, "the sidecar did not exit"
        await asyncio.sleep(0.02)
    return rc


@pytest.fixture
def stderr_file(socket_path: Path) -> Path:
    return socket_path.parent / "stderr.log"


@pytest.fixture
def kill_after() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_fake_serves_and_exits_on_sigterm(
    socket_path: Path, stderr_file: Path, kill_after: list
) -> None:
    proc = sidecar(
        socket_path,
        "--fake",
        "--served-model-name",
        "tiny",
        "--fake-token-delay",
        "0.02",
        "--fake-reply-tokens",
        "10",
        stderr_file=stderr_file,
    )
    kill_after.append(proc)
    await wait_for_socket(socket_path, proc, timeout=15)
    idle = await Client.connect(socket_path)
    c = await Client.connect(socket_path)
    try:
        hello = await idle.hello()
        assert isinstance(hello, Handshake) and hello.model_names == ["tiny"]
        assert isinstance(await c.hello(), Handshake)
        await c.send(GenerateRequest(request_id="r", messages=[ChatMessage(role=Role.USER)]))
        await c.recv()  # STARTED: the generation is running when SIGTERM arrives
        proc.send_signal(signal.SIGTERM)
        frames = await c.until_final()
        assert isinstance(frames[-1], Final) and frames[-1].finish_reason == "stop"
        assert frames[-1].usage.completion_tokens == 10  # drained, not cut off
        assert await wait_exit(proc, timeout=5) == 0
        assert not socket_path.exists()
        assert await idle.recv() is None  # open connections end with EOF
    finally:
        await idle.close()
        await c.close()


async def test_sigterm_with_an_idle_connection_logs_no_traceback(
    socket_path: Path, stderr_file: Path, kill_after: list
) -> None:
    proc = sidecar(socket_path, "--fake", stderr_file=stderr_file)
    kill_after.append(proc)
    await wait_for_socket(socket_path, proc, timeout=15)
    c = await Client.connect(socket_path)
    try:
        assert isinstance(await c.hello(), Handshake)
        await c.send(Health())
        assert await c.recv() == HealthReply(healthy=True)
        proc.send_signal(signal.SIGTERM)
        assert await wait_exit(proc, timeout=5) == 0
    finally:
        await c.close()
    stderr = stderr_file.read_text()
    assert "Traceback" not in stderr and " ERROR " not in stderr, stderr


@pytest.fixture(scope="module")
def missing_model_run() -> Iterator[tuple[int, str, float]]:
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="portico-t-", dir="/tmp"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    try:
        done = subprocess.run(
            [
                PYTHON,
                "-m",
                "inference",
                "--socket",
                str(folder / "s.sock"),
                "--model",
                "/nonexistent/model",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    yield done.returncode, done.stderr, time.monotonic() - started


def reason_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "could not start" in line]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


@pytest.mark.integration
def test_missing_model_exits_non_zero_with_a_reason(
    missing_model_run: tuple[int, str, float],
) -> None:
    rc, stderr, elapsed = missing_model_run
    assert rc != 0
    assert elapsed < 120
    line = reason_line(stderr)
    assert "/nonexistent/model" in line
    assert stderr.rstrip().endswith(line), "the reason is the last thing on stderr"
    assert "Traceback" not in stderr


@pytest.mark.integration
def test_missing_model_reason_says_it_does_not_exist(
    missing_model_run: tuple[int, str, float],
) -> None:
    line = reason_line(missing_model_run[1]).lower()
    assert any(w in line for w in ("does not exist", "not found", "no such")), line


async def test_the_fake_serves_every_shard_and_stops_them_all(
    socket_path: Path, stderr_file: Path, kill_after: list
) -> None:
    proc = sidecar(socket_path, "--fake", "--api-server-count", "3", stderr_file=stderr_file)
    kill_after.append(proc)
    paths = [socket_path, Path(f"{socket_path}.1"), Path(f"{socket_path}.2")]
    for path in paths:
        await wait_for_socket(path, proc, timeout=15)
    for index, path in enumerate(paths):
        c = await Client.connect(path)
        try:
            hello = await c.hello()
            assert isinstance(hello, Handshake)
            assert (hello.shard, hello.shards) == (index, 3)
        finally:
            await c.close()
    proc.send_signal(signal.SIGTERM)
    assert await wait_exit(proc, timeout=5) == 0
    assert not any(path.exists() for path in paths)


def test_a_shard_count_below_one_is_refused(socket_path: Path) -> None:
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "inference",
            "--socket",
            str(socket_path),
            "--fake",
            *["--api-server-count", "0"],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--api-server-count must be 1 or more" in done.stderr
