"""The sidecar going away and coming back, clients dropping streams, and shutting down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests import spec
from tests.sse import post_stream
from tests.stack import ROOT, Stack, free_port

MODEL = "fake-model"


def wait_for(predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def status(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0


class Separate:
    """A fake sidecar and a Sanic server started on their own (no launcher)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portico-sep-"))
        self.socket = str(self.dir / "s.sock")
        self.port = free_port()
        self.sidecar: subprocess.Popen[bytes] | None = None
        env = dict(os.environ, PORTICO_SIDECAR_SOCKET=self.socket, PORTICO_HEALTH_INTERVAL="0.3")
        self.frontend = subprocess.Popen(
            [sys.executable, "-m", "sanic", "frontend.app", "--port", str(self.port), "--no-motd"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start_sidecar(self, *args: str) -> None:
        self.sidecar = subprocess.Popen(
            [sys.executable, "-m", "inference", "--socket", self.socket, "--fake", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill_sidecar(self) -> None:
        assert self.sidecar is not None
        self.sidecar.kill()
        self.sidecar.wait()

    def close(self) -> None:
        for proc in (self.frontend, self.sidecar):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(20)


@pytest.fixture
def separate() -> Iterator[Separate]:
    pair = Separate()
    yield pair
    pair.close()


def test_sidecar_down_gives_503_then_recovers(separate: Separate) -> None:
    wait_for(lambda: status(separate.url("/health")) == 503)
    body = {"model": MODEL, "input": "hi"}
    reply = httpx.post(separate.url("/v1/responses"), json=body)
    assert reply.status_code == 503
    assert reply.headers["retry-after"]
    spec.validate_error(reply.json())
    assert httpx.get(separate.url("/v1/models")).status_code == 503

    separate.start_sidecar()
    wait_for(lambda: status(separate.url("/health")) == 200)
    assert httpx.post(separate.url("/v1/responses"), json=body).status_code == 200

    separate.kill_sidecar()
    reply = httpx.post(separate.url("/v1/responses"), json=body, timeout=10)
    assert reply.status_code == 503 and reply.headers["retry-after"]
    wait_for(lambda: status(separate.url("/health")) == 503)

    separate.start_sidecar()  # the frontend reconnects by itself
    wait_for(lambda: status(separate.url("/health")) == 200)
    assert httpx.post(separate.url("/v1/responses"), json=body).status_code == 200


def test_client_dropping_a_stream_aborts_the_generation(slow_stack: Stack) -> None:
    body = {"model": MODEL, "input": "long story", "stream": True}
    with httpx.stream("POST", slow_stack.url("/v1/responses"), json=body, timeout=30) as reply:
        deltas = 0
        for line in reply.iter_lines():
            if line.startswith("event: response.output_text.delta"):
                deltas += 1
                if deltas == 5:
                    assert slow_stack.stats().running == 1
                    break
    assert slow_stack.wait_idle().running == 0


def test_client_timing_out_on_a_plain_request_aborts_it(slow_stack: Stack) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            slow_stack.url("/v1/responses"), json={"model": MODEL, "input": "x"}, timeout=0.5
        )
    assert slow_stack.wait_idle().running == 0


def test_launcher_stops_both_processes_on_ctrl_c() -> None:
    stack = Stack("--fake").start()
    assert stack.proc is not None
    children = subprocess.run(["pgrep", "-f", stack.socket], capture_output=True, text=True)
    pids = [int(p) for p in children.stdout.split()]
    assert len(pids) >= 2  # the sidecar and the frontend (both name the socket)
    assert stack.stop() == 0
    for pid in pids:
        wait_for(lambda pid=pid: not _alive(pid), timeout=10)
    assert not Path(stack.socket).exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie awaiting its parent counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_idle_stream_gets_keep_alive_pings() -> None:
    """A token every 0.4 s with a 0.1 s ping interval: pings keep the connection busy (native
    mode: `response.ping` events; compatibility mode's comments: tests/frontend/streaming)."""
    stack = Stack(
        "--fake",
        "--fake-token-delay",
        "0.4",
        "--fake-reply-tokens",
        "3",
        env={"PORTICO_SSE_PING_INTERVAL": "0.1"},
    ).start()
    try:
        stream = post_stream(
            stack.url("/v1/responses"), {"model": MODEL, "input": "hi", "stream": True}
        )
        pings = [e for e in stream.every if e["type"] == "response.ping"]
        assert len(pings) >= 3 and stream.comments == 0
        spec.validate_event_sequence(stream.every)
    finally:
        stack.stop()


def test_sidecar_dying_mid_stream_fails_the_response(separate: Separate) -> None:
    separate.start_sidecar("--fake-token-delay", "0.05", "--fake-reply-tokens", "400")
    wait_for(lambda: status(separate.url("/health")) == 200)
    body = {"model": MODEL, "input": "long", "stream": True}
    events: list[dict[str, object]] = []
    with httpx.stream("POST", separate.url("/v1/responses"), json=body, timeout=30) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: {"):
                events.append(json.loads(line[len("data: ") :]))
                if len(events) == 6:
                    separate.kill_sidecar()
    assert events[-1]["type"] == "response.failed"
    spec.validate_event_sequence(events)
    assert events[-1]["response"]["error"]["code"] == "server_error"  # type: ignore[index]


def test_sidecar_dying_mid_request_is_503(separate: Separate) -> None:
    separate.start_sidecar("--fake-token-delay", "0.05", "--fake-reply-tokens", "400")
    wait_for(lambda: status(separate.url("/health")) == 200)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            httpx.post,
            separate.url("/v1/responses"),
            json={"model": MODEL, "input": "x"},
            timeout=30,
        )
        time.sleep(0.5)
        separate.kill_sidecar()
        reply = future.result()
    assert reply.status_code == 503
    spec.validate_error(reply.json())
