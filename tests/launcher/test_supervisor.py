"""The sidecar supervised: restarted after a crash, given up on when restarting is futile."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from launcher.supervisor import RestartPolicy
from tests.stack import ROOT, Stack

MODEL = "fake-model"


def test_backoff_doubles_and_gives_up_after_repeated_fast_crashes() -> None:
    policy = RestartPolicy(delay=1, max_delay=5, window=60, max_crashes=5)
    delays = [policy.after_exit(ran_for=2, ever_ready=True).delay for _ in range(5)]
    assert delays == [1, 2, 4, 5, None]


def test_a_long_run_resets_the_count() -> None:
    policy = RestartPolicy(delay=1, window=60, max_crashes=3)
    assert policy.after_exit(1, True).delay == 1
    assert policy.after_exit(1, True).delay == 2
    assert policy.after_exit(3600, True).delay == 1  # it ran an hour: a new series
    assert policy.after_exit(1, True).delay == 1
    assert policy.after_exit(1, True).delay == 2
    decision = policy.after_exit(1, True)
    assert decision.delay is None
    assert decision.reason == "giving up after 3 crashes in a row, each within 60 s of its start"


def test_a_sidecar_that_never_became_ready_is_not_restarted() -> None:
    decision = RestartPolicy().after_exit(ran_for=0.5, ever_ready=False)
    assert decision.delay is None and "never became ready" in decision.reason


def wait_for(predicate: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def health(stack: Stack) -> int:
    try:
        return httpx.get(stack.url("/health"), timeout=2).status_code
    except httpx.HTTPError:
        return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def sidecar_pid(stack: Stack) -> int | None:
    assert stack.proc is not None
    for pid in children(stack.proc.pid):
        try:
            if f"inference --socket {stack.socket}" in cmdline(pid):
                return pid
        except FileNotFoundError:
            pass
    return None


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


@pytest.fixture
def stacks() -> Iterator[Callable[..., Stack]]:
    started: list[Stack] = []

    def start(*args: str) -> Stack:
        stack = Stack("--fake", *args)
        started.append(stack)
        return stack.start()

    yield start
    for stack in started:
        stack.stop()


def test_a_killed_sidecar_is_restarted_while_the_frontend_stays_up(
    stacks: Callable[..., Stack],
) -> None:
    stack = stacks()
    first = sidecar_pid(stack)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: health(stack) == 503, timeout=5)
    wait_for(lambda: health(stack) == 200, timeout=15)
    assert sidecar_pid(stack) not in (None, first)
    reply = httpx.post(stack.url("/v1/responses"), json={"model": MODEL, "input": "hi"})
    assert reply.status_code == 200 and reply.json()["status"] == "completed"
    assert stack.proc is not None and stack.proc.poll() is None
    assert "restarting it in 1 s" in stack.log()
    wait_for(lambda: "the sidecar is back (restart 1)" in stack.log(), timeout=5)
    assert stack.stop() == 0


def test_repeated_fast_crashes_make_the_launcher_give_up(stacks: Callable[..., Stack]) -> None:
    stack = stacks("--sidecar-restart-delay", "0.2", "--sidecar-max-crashes", "3")
    launcher = stack.proc
    assert launcher is not None
    frontend = [p for p in children(launcher.pid) if "sanic" in cmdline(p)]
    killed: list[int] = []
    while launcher.poll() is None and len(killed) < 3:
        wait_for(lambda: sidecar_pid(stack) not in (None, *killed) or launcher.poll() is not None)
        if (pid := sidecar_pid(stack)) is not None:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    assert launcher.wait(15) == 1
    assert len(killed) == 3
    last = stack.log().strip().splitlines()[-1]
    assert "giving up after 3 crashes in a row" in stack.log(), stack.log()
    assert all(gone(pid) for pid in [*frontend, *killed]), last


def test_a_sidecar_that_cannot_start_stops_everything_at_once() -> None:
    stack = Stack("--fake", "--no-such-engine-flag")  # the fake's parser refuses it: exit 2
    with stack.log_path.open("wb") as log:
        proc = subprocess.Popen(
            stack.cmd, cwd=ROOT, env=stack.env, stdout=log, stderr=subprocess.STDOUT
        )
    assert proc.wait(20) == 1
    assert "the sidecar exited with code 2; it never became ready" in stack.log()
    assert "restarting" not in stack.log()


def test_the_frontend_dying_stops_everything(stacks: Callable[..., Stack]) -> None:
    stack = stacks()
    assert stack.proc is not None
    sidecar = sidecar_pid(stack)
    frontend = [p for p in children(stack.proc.pid) if "sanic" in cmdline(p)]
    assert sidecar is not None and len(frontend) == 1
    os.kill(frontend[0], signal.SIGKILL)
    assert stack.proc.wait(60) != 0
    assert "the frontend was killed by SIGKILL; stopping" in stack.log()
    wait_for(lambda: gone(sidecar), timeout=10)


async def test_the_handshake_probe_waits_for_every_shard() -> None:
    """`portico serve` is ready only when every shard of a sharded sidecar answers."""
    import asyncio

    from inference.fake import FakeEngine
    from inference.server import SidecarServer
    from launcher.sidecar import handshake

    path = f"/tmp/portico-hs-{os.getpid()}.sock"
    first = SidecarServer(FakeEngine(), path, shard=0, shards=2)
    second = SidecarServer(FakeEngine(), f"{path}.1", shard=1, shards=2)
    await first.start()
    try:
        assert await asyncio.to_thread(handshake, path, 1.0) is None  # shard 1 not up
        await second.start()
        found = await asyncio.to_thread(handshake, path, 1.0)
        assert found is not None and found.shards == 2
    finally:
        await first.stop()
        if second._server is not None:
            await second.stop()
