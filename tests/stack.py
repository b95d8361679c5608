"""A running Portico for tests: the real launcher, sidecar and Sanic server on a free port.

The sidecar is the fake engine (`--fake`) for frontend tests and vLLM for integration tests;
both speak the real protocol over a real Unix socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from openai import AsyncOpenAI, OpenAI

from frontend.client.shards import ShardedSidecarClient
from inference.protocol import StatsReply

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def sidecar_client(path: str) -> AsyncIterator[ShardedSidecarClient]:
    """A client of every shard of the sidecar at `path`, once ready (or after 10 s)."""
    client = ShardedSidecarClient(path, health_interval=0.05)
    await client.start()
    try:
        deadline = time.monotonic() + 10
        while not client.ready and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        yield client
    finally:
        await client.stop()


class Stack:
    def __init__(
        self,
        *sidecar_args: str,
        workers: int = 1,
        compat: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portico-test-"))
        self.socket = str(self.dir / "sidecar.sock")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.dir / "stack.log"
        cmd = [
            sys.executable,
            "-m",
            "launcher",
            "--port",
            str(self.port),
            "--socket",
            self.socket,
            "--workers",
            str(workers),
        ]
        if compat:
            cmd.append("--responses-compatibility-mode")
        self.cmd = [*cmd, *sidecar_args]
        self.env = dict(
            os.environ, PORTICO_HEALTH_INTERVAL="0.5", HF_HUB_OFFLINE="1", **(env or {})
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Stack:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the stack exited early:\n{self.log()}")
            try:
                # /readyz: /health's predicate, never behind an API key (--auth-protect-ops)
                if httpx.get(self.url("/readyz"), timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the stack was not healthy within {timeout} s:\n{self.log()}")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def url(self, path: str) -> str:
        return self.base_url + path

    def openai(self, **kwargs: Any) -> OpenAI:
        return OpenAI(base_url=self.url("/v1"), api_key="sk-test", max_retries=0, **kwargs)

    def async_openai(self) -> AsyncOpenAI:
        return AsyncOpenAI(base_url=self.url("/v1"), api_key="sk-test", max_retries=0)

    def stats(self) -> StatsReply:
        async def ask() -> StatsReply:  # every shard's, summed
            async with sidecar_client(self.socket) as client:
                return await client.stats()

        return asyncio.run(ask())

    def shard_totals(self) -> list[int]:
        """Generations each shard of the sidecar started, in shard order."""

        async def ask() -> list[int]:
            async with sidecar_client(self.socket) as client:
                assert client.ready, "not every shard answers"
                return [(await shard.stats()).total_requests for shard in client.shards]

        return asyncio.run(ask())

    def wait_idle(self, timeout: float = 5.0) -> StatsReply:
        """Poll the sidecar until no generation runs (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        stats = self.stats()
        while stats.running and time.monotonic() < deadline:
            time.sleep(0.05)
            stats = self.stats()
        return stats
