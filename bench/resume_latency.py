"""Resume latency: how soon a resumed background stream sends its first replayed event.

Owns the resume figure of docs/benchmarks.md. Two frontends (as two pods: each its own
launcher and fake sidecar) share one local redis-server; background streams are started on
the first, and `GET /v1/responses/{id}?stream=true&starting_after=N` is sent to the second
for a response still running, with N below what its run log already holds. The time from
sending the GET to the arrival of its first event (a replay from the Redis run log, across
processes) is measured per resume; p50/p90/p99 over every resume.

    python -m bench.resume_latency --resumes 400 --streams 16 --concurrency 4 [--json-out F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.compare import stop, wait_healthy
from bench.level_stats import percentile

MODEL = "fake-model"


def start_frontend(port: int, store_url: str, tokens: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "launcher", "--fake", "--port", str(port)]
    command += ["--fake-reply-tokens", str(tokens), "--responses-store-url", store_url]
    return subprocess.Popen(
        command, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


async def first_event(client: httpx.AsyncClient, url: str) -> tuple[float, int]:
    """Seconds to the first SSE event of a GET stream, and that event's sequence number."""
    sent = time.perf_counter()
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {(await response.aread())[:200]!r}")
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                elapsed = time.perf_counter() - sent
                return elapsed, int(json.loads(line[6:])["sequence_number"])
    raise RuntimeError("the stream ended without an event")


class Runs:
    """Background responses kept running on the first frontend: a finished one is replaced."""

    def __init__(self, client: httpx.AsyncClient, base: str, delay: float) -> None:
        self.client, self.base, self.delay = client, base, delay
        self.started: dict[str, float] = {}  # id -> when it was created

    async def start(self) -> None:
        body = {
            "model": MODEL,
            "input": f"a story fake:delay={self.delay}",
            "background": True,
            "stream": False,
        }
        created = (await self.client.post(f"{self.base}/v1/responses", json=body)).json()
        self.started[created["id"]] = time.perf_counter()

    async def pick(self, lifetime: float) -> tuple[str, int]:
        """A running response and a point in its log: events logged so far, about."""
        while True:
            now = time.perf_counter()
            for rid, since in list(self.started.items()):
                if now - since > lifetime * 0.9 and rid in self.started:  # about to end
                    del self.started[rid]  # (another resumer may have replaced it meanwhile)
                    await self.start()
            rid = random.choice(list(self.started))
            logged = int((now - self.started[rid]) / self.delay)
            if logged >= 4:
                return rid, random.randrange(0, logged - 2)
            await asyncio.sleep(self.delay)


async def measure(ns: argparse.Namespace, first: str, second: str) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=ns.concurrency + ns.streams + 4)
    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as client:
        runs = Runs(client, first, ns.delay)
        await asyncio.gather(*(runs.start() for _ in range(ns.streams)))
        samples: list[float] = []
        errors: list[str] = []
        left = ns.resumes
        lifetime = ns.tokens * ns.delay

        async def resumer() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                rid, after = await runs.pick(lifetime)
                url = f"{second}/v1/responses/{rid}?stream=true&starting_after={after}"
                try:
                    elapsed, seq = await first_event(client, url)
                    if seq != after + 1:
                        raise RuntimeError(f"first event {seq}, expected {after + 1}")
                    samples.append(elapsed * 1000)
                except Exception as exc:
                    errors.append(str(exc)[:200])

        began = time.perf_counter()
        await asyncio.gather(*(resumer() for _ in range(ns.concurrency)))
        wall = time.perf_counter() - began
    samples.sort()
    stats = {q: percentile(samples, q) or 0.0 for q in (50, 90, 99)} if samples else {}
    return {
        "resumes": len(samples),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:10],
        "wall_s": wall,
        "ms": {f"p{q}": v for q, v in stats.items()} | {"max": max(samples, default=0.0)},
        "config": {k: v for k, v in vars(ns).items() if k != "json_out"},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.resume_latency", description=__doc__)
    parser.add_argument("--resumes", type=int, default=400)
    parser.add_argument("--streams", type=int, default=16, help="background runs kept going")
    parser.add_argument("--concurrency", type=int, default=4, help="resumes in flight")
    parser.add_argument("--tokens", type=int, default=128, help="tokens per background run")
    parser.add_argument("--delay", type=float, default=0.02, help="fake seconds per token")
    parser.add_argument("--ports", default="8410,8411")
    parser.add_argument("--json-out", type=Path)
    ns = parser.parse_args(argv)
    redis = shutil.which("redis-server")
    if redis is None:
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    folder = Path(tempfile.mkdtemp(prefix="portico-resume-"))
    sock = folder / "redis.sock"
    server = subprocess.Popen(
        [redis, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    ports = [int(p) for p in ns.ports.split(",")]
    frontends: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            log = folder / f"frontend-{port}.log"
            frontends.append(start_frontend(port, f"unix://{sock}", ns.tokens, log))
        for port, proc in zip(ports, frontends, strict=True):
            wait_healthy(f"http://127.0.0.1:{port}/health", proc, 120)
        first, second = (f"http://127.0.0.1:{p}" for p in ports)
        result = asyncio.run(measure(ns, first, second))
    finally:
        for proc in frontends:
            stop(proc)
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    ms = result["ms"]
    print(
        f"{result['resumes']} resumes, {result['errors']} errors: time to first replayed event "
        f"p50 {ms.get('p50', 0):.1f} ms, p90 {ms.get('p90', 0):.1f} ms, "
        f"p99 {ms.get('p99', 0):.1f} ms, max {ms['max']:.1f} ms"
    )
    if ns.json_out is not None:
        ns.json_out.write_text(json.dumps(result, indent=2))
    if result["errors"]:
        print("errors:", *result["error_kinds"], sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
