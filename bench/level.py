"""One concurrency level of the load generator, run over several client processes.

Owns the parent's side of a level: how many client processes and how the workers and the
warm-up are split over them, starting them (multiprocessing, ``spawn``) with the shared
request counter and start barrier, collecting their results (a process that dies without
reporting is given up on after a grace period) and handing them to
:func:`bench.level_stats.summarize_level`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue as queue_mod
import time
from typing import Any

from bench.client_process import ChildResult, ChildSpec, child_main
from bench.level_stats import summarize_level

# How long the parent waits for a client process that has neither reported nor died.
_CHILD_POLL_S = 0.5


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def split(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal non-negative integers."""
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def run_level(args: argparse.Namespace, concurrency: int) -> dict[str, Any]:
    """Run one concurrency level over several client processes and aggregate it."""
    procs = args.processes if args.processes is not None else min(concurrency, cpu_count())
    procs = max(1, min(procs, concurrency))
    n_requests = args.requests if args.requests is not None else max(32, 4 * concurrency)
    n_warmup = args.warmup if args.warmup is not None else concurrency

    ctx = mp.get_context("spawn")
    main_counter = ctx.Value("q", 0)
    barrier = ctx.Barrier(procs)
    results: Any = ctx.Queue()
    specs = [
        ChildSpec(
            index=i,
            workers=w,
            url=args.url,
            bodies=args.bodies,
            headers=args.headers,
            timeout_s=args.timeout,
            warmup=k,
            requests_total=n_requests,
        )
        for i, (w, k) in enumerate(
            zip(split(concurrency, procs), split(n_warmup, procs), strict=True)
        )
    ]
    children = [
        ctx.Process(
            target=child_main,
            args=(spec, main_counter, barrier, results),
            name=f"bench-client-{spec.index}",
            daemon=True,
        )
        for spec in specs
    ]
    for child in children:
        child.start()

    collected: dict[int, ChildResult] = {}
    dead_since: float | None = None
    while len(collected) < procs:
        try:
            res: ChildResult = results.get(timeout=_CHILD_POLL_S)
            collected[res.index] = res
            continue
        except queue_mod.Empty:
            pass
        missing = [c for s, c in zip(specs, children, strict=True) if s.index not in collected]
        if any(not c.is_alive() for c in missing):
            # A process died without reporting (killed, crashed interpreter): give the queue a
            # moment in case its result is still in flight, then give up on it.
            dead_since = dead_since or time.monotonic()
            if time.monotonic() - dead_since > 5.0:
                barrier.abort()
                for s, c in zip(specs, children, strict=True):
                    if s.index not in collected and not c.is_alive():
                        collected[s.index] = ChildResult(
                            index=s.index, workers=s.workers, fatal=f"exit code {c.exitcode}"
                        )
                        break
                dead_since = None
    for child in children:
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()
            child.join()

    return summarize_level(concurrency, procs, n_requests, n_warmup, list(collected.values()))
