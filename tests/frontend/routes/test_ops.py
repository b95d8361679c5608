"""The probes and /metrics of a frontend started on its own (`sanic frontend.app`), as the
frontend container of a pod runs it: /livez never follows the sidecar, /readyz does, and
several workers sum their metrics in a folder the frontend makes (and removes) itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.frontend.test_lifecycle import status, wait_for
from tests.redis_server import RedisServer
from tests.stack import ROOT, free_port


class Frontend:
    """`sanic frontend.app` alone on a free port, with its own TMPDIR; a fake sidecar on demand."""

    def __init__(self, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portico-ops-"))
        self.tmp = self.dir / "tmp"
        self.tmp.mkdir()
        self.socket = str(self.dir / "s.sock")
        self.port = free_port()
        self.sidecar: subprocess.Popen[bytes] | None = None
        environ = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        environ.update(
            PORTICO_SIDECAR_SOCKET=self.socket,
            PORTICO_HEALTH_INTERVAL="0.3",
            TMPDIR=str(self.tmp),
            **(env or {}),
        )
        command = ["-m", "sanic", "frontend.app", "--port", str(self.port), "--no-motd"]
        self.frontend = subprocess.Popen(
            [sys.executable, *command, "--workers", str(workers)],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: status(self.url("/livez")) == 200, timeout=30)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start_sidecar(self) -> None:
        self.sidecar = subprocess.Popen(
            [sys.executable, "-m", "inference", "--socket", self.socket, "--fake"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill_sidecar(self) -> None:
        assert self.sidecar is not None
        self.sidecar.kill()
        self.sidecar.wait()

    def stop(self) -> None:
        for proc in (self.frontend, self.sidecar):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(20)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def alone() -> Iterator[Frontend]:
    frontend = Frontend()
    yield frontend
    frontend.close()


def test_livez_answers_and_readyz_follows_the_sidecar(alone: Frontend) -> None:
    reply = httpx.get(alone.url("/readyz"))
    assert reply.status_code == 503 and reply.headers["retry-after"]
    assert reply.json() == {"status": "not ready"}
    assert httpx.get(alone.url("/livez")).json() == {"status": "alive"}

    alone.start_sidecar()
    wait_for(lambda: status(alone.url("/readyz")) == 200)
    assert httpx.get(alone.url("/readyz")).json() == {"status": "ready"}
    health = httpx.get(alone.url("/health"))  # unchanged: the models too
    assert health.json() == {"status": "ok", "models": ["fake-model"]}

    alone.kill_sidecar()
    wait_for(lambda: status(alone.url("/readyz")) == 503)
    assert status(alone.url("/health")) == 503
    assert status(alone.url("/livez")) == 200  # a missing engine never restarts the frontend


def test_several_workers_alone_sum_their_metrics(redis_server: RedisServer) -> None:
    frontend = Frontend(workers=2, env={"PORTICO_STORE_URL": redis_server.fresh_url()})
    try:
        folders = list(frontend.tmp.glob("portico-metrics-*"))
        assert len(folders) == 1  # made by the main process, shared by both workers

        def livez_total() -> float:
            text = httpx.get(frontend.url("/metrics")).text
            prefix = 'portico_requests_total{method="GET",route="/livez"'
            found = [x for x in text.splitlines() if x.startswith(prefix)]
            return float(found[0].split()[-1]) if found else 0.0

        # the start-up wait's polls are counted too (one, or more when a slow answer made
        # the wait poll again): take the total before the measured requests
        before = livez_total()
        requests = 40
        for _ in range(requests):  # a fresh connection each: the kernel spreads them
            assert httpx.get(frontend.url("/livez")).status_code == 200
        pids = {p.stem.rsplit("_", 1)[-1] for p in folders[0].glob("counter_*.db")}
        assert len(pids) == 2, pids  # both workers counted requests into the folder
        for _ in range(4):  # whichever worker answers the scrape gives the same total
            assert livez_total() == before + requests
    finally:
        frontend.stop()
        assert not list(frontend.tmp.glob("portico-metrics-*"))  # removed at the stop
        frontend.close()
