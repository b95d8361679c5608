"""Aggregation of one concurrency level's raw samples into the numbers the report holds.

Owns the statistics of the load generator: linear-interpolation percentiles (numpy's
default), the ``{n, mean, p50, p90, p99, max}`` millisecond summaries, and the per-level dict
(throughput over the wall time of the measured phase, latency summaries over successful
requests, error counts and kinds, client CPU use) that the table, the JSON file and
``compare`` read.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.client_process import ChildResult


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize_ms(values_s: Sequence[float]) -> dict[str, float | int | None]:
    """Count, mean and percentiles of a list of seconds, in milliseconds."""
    if not values_s:
        return {"n": 0, "mean": None, "p50": None, "p90": None, "p99": None, "max": None}
    ms = sorted(v * 1000.0 for v in values_s)
    return {
        "n": len(ms),
        "mean": sum(ms) / len(ms),
        "p50": percentile(ms, 50),
        "p90": percentile(ms, 90),
        "p99": percentile(ms, 99),
        "max": ms[-1],
    }


def summarize_level(
    concurrency: int,
    procs: int,
    n_requests: int,
    n_warmup: int,
    results: Sequence[ChildResult],
) -> dict[str, Any]:
    """The report entry of one level from what its client processes sent back."""
    fatal = [f"process {r.index}: {r.fatal}" for r in results if r.fatal]
    good = [r for r in results if not r.fatal]
    samples = [s for r in good for s in r.samples]
    ok = [s for s in samples if s.ok]
    errs = [s for s in samples if not s.ok]
    wall = (max(r.end_mono for r in good) - min(r.start_mono for r in good)) if good else 0.0
    out_tokens = sum(s.output_tokens for s in ok)
    events = sum(s.n_events for s in samples)
    per_proc_cpu = [
        {
            "process": r.index,
            "workers": r.workers,
            "requests": len(r.samples),
            "cpu_s": r.cpu_s,
            "busy_pct": 100.0 * r.cpu_s / (r.end_mono - r.start_mono)
            if r.end_mono > r.start_mono
            else 0.0,
        }
        for r in sorted(good, key=lambda r: r.index)
    ]
    total_cpu = sum(r.cpu_s for r in good)
    return {
        "concurrency": concurrency,
        "processes": procs,
        "requests": len(samples),
        "requests_planned": n_requests,
        "ok": len(ok),
        "errors": len(errs) + (n_requests - len(samples) if fatal else 0),
        "error_kinds": dict(Counter(s.error for s in errs).most_common(10)),
        "fatal": fatal,
        "warmup_requests": n_warmup,
        "warmup_errors": sum(r.warmup_errors for r in good),
        "wall_s": wall,
        "requests_per_s": len(ok) / wall if wall > 0 else 0.0,
        "output_tokens": out_tokens,
        "output_tokens_per_s": out_tokens / wall if wall > 0 else 0.0,
        "usage_missing": sum(1 for s in ok if not s.usage_reported),
        "no_text_delta": sum(1 for s in ok if s.ttft_s is None),
        "deltas_per_request": (sum(s.n_deltas for s in ok) / len(ok)) if ok else 0.0,
        "sse_events_per_s": events / wall if wall > 0 else 0.0,
        "ttft_ms": summarize_ms([s.ttft_s for s in ok if s.ttft_s is not None]),
        "itl_ms": summarize_ms([g for s in ok for g in s.itl_s]),
        "tpot_ms": summarize_ms([s.tpot_s for s in ok if s.tpot_s is not None]),
        "e2e_ms": summarize_ms([s.e2e_s for s in ok]),
        "client_cpu": {
            "total_cpu_s": total_cpu,
            "cores_used": total_cpu / wall if wall > 0 else 0.0,
            "max_process_busy_pct": max((p["busy_pct"] for p in per_proc_cpu), default=0.0),
            "per_process": per_proc_cpu,
        },
    }
