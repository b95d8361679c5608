"""A client process of the load generator: its share of one concurrency level's workers.

Owns what runs inside each spawned client process and what crosses the process boundary:
:class:`ChildSpec` (the parent's orders) and :class:`ChildResult` (the raw samples and CPU
time sent back). A process runs one asyncio loop and one ``httpx.AsyncClient`` (HTTP/1.1, one
connection per worker, no retries, proxies from the environment ignored); its workers first
run this process's own warm-up quota, then wait at a barrier shared by all processes and draw
measured requests from one counter shared by all processes, so a slower process simply does
fewer. Everything here is module level and picklable, as ``spawn`` needs.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.sse_request import Sample, one_request


@dataclass(slots=True)
class ChildSpec:
    """Everything a client process needs to run its share of one concurrency level."""

    index: int
    workers: int
    url: str
    bodies: tuple[bytes, ...]  # requests cycle through these (one per output length)
    headers: dict[str, str]
    timeout_s: float
    warmup: int
    requests_total: int


@dataclass(slots=True)
class ChildResult:
    """What a client process sends back to the parent."""

    index: int
    workers: int
    samples: list[Sample] = field(default_factory=list)
    warmup_errors: int = 0
    start_mono: float = 0.0
    end_mono: float = 0.0
    cpu_s: float = 0.0
    fatal: str | None = None


def _shared_taker(counter: Any, limit: int) -> Callable[[], bool]:
    """Claim requests from a counter shared by all client processes (measured phase)."""

    def take() -> bool:
        with counter.get_lock():
            if counter.value >= limit:
                return False
            counter.value += 1
            return True

    return take


def _local_taker(limit: int) -> Callable[[], bool]:
    """Claim requests from this process's own quota (warm-up)."""
    left = [limit]

    def take() -> bool:
        if left[0] <= 0:
            return False
        left[0] -= 1
        return True

    return take


async def _worker(
    client: httpx.AsyncClient,
    spec: ChildSpec,
    take: Callable[[], bool],
    bodies: Iterator[bytes],
    out: list[Sample],
) -> None:
    while take():
        body = next(bodies)
        out.append(await one_request(client, spec.url, body, spec.headers, spec.timeout_s))


async def _child_async(spec: ChildSpec, main_counter: Any, barrier: Any) -> ChildResult:
    limits = httpx.Limits(max_connections=spec.workers, max_keepalive_connections=spec.workers)
    timeout = httpx.Timeout(spec.timeout_s)
    transport = httpx.AsyncHTTPTransport(http1=True, http2=False, retries=0, limits=limits)
    async with httpx.AsyncClient(
        transport=transport, timeout=timeout, trust_env=False, follow_redirects=False
    ) as client:
        # Warm-up: this process's own quota, so that every process has opened its connections
        # (and done its lazy imports) before the clock starts.
        warm: list[Sample] = []
        take_warm = _local_taker(spec.warmup)
        # One cycle per process, each starting at its own place in the shared order.
        bodies = itertools.islice(itertools.cycle(spec.bodies), 7 * spec.index, None)
        await asyncio.gather(
            *(_worker(client, spec, take_warm, bodies, warm) for _ in range(spec.workers))
        )
        # Nothing else runs on this loop now, so blocking it on the barrier is harmless.
        barrier.wait()
        start = time.monotonic()
        cpu0 = time.process_time()
        samples: list[Sample] = []
        take = _shared_taker(main_counter, spec.requests_total)
        await asyncio.gather(
            *(_worker(client, spec, take, bodies, samples) for _ in range(spec.workers))
        )
        cpu1 = time.process_time()
        end = time.monotonic()
    return ChildResult(
        index=spec.index,
        workers=spec.workers,
        samples=samples,
        warmup_errors=sum(1 for s in warm if not s.ok),
        start_mono=start,
        end_mono=end,
        cpu_s=cpu1 - cpu0,
    )


def child_main(spec: ChildSpec, main_counter: Any, barrier: Any, results: Any) -> None:
    """Entry point of a client process (spawned)."""
    try:
        result = asyncio.run(_child_async(spec, main_counter, barrier))
    except BaseException as exc:
        barrier.abort()  # do not leave the other processes waiting
        result = ChildResult(
            index=spec.index, workers=spec.workers, fatal=f"{type(exc).__name__}: {exc}"
        )
    results.put(result)
