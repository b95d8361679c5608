"""Load generator for a streaming OpenAI Responses API endpoint (``POST {base_url}/responses``).

Works the same against Portico and against vLLM's own OpenAI server: it sends
``{"model", "input", "max_output_tokens", "stream": true, "temperature": 0}`` (plus
``"ignore_eos": true`` by default, a vLLM sampling extension) and parses the SSE stream by
hand. Per request it records the time to the first ``response.output_text.delta`` (TTFT),
the gaps between consecutive deltas (inter-token latency, ITL) and the output token count
from ``response.completed`` / ``response.incomplete`` ``response.usage.output_tokens``.

One asyncio client saturates at roughly 10k SSE events/s, so the load for each concurrency
level is spread over several client processes (multiprocessing, spawn). Each process runs an
asyncio loop with its share of the concurrent workers and one ``httpx.AsyncClient``
(HTTP/1.1, no retries); the workers of all processes take requests from one shared counter,
start together at a barrier after an untimed warm-up, and send their raw samples back to the
parent, which aggregates them.

Usage::

    python -m bench.load --base-url http://127.0.0.1:8000/v1 --model NAME \\
        --concurrency 1,4,16,64 --json-out portico.json --label portico
    python -m bench.load compare portico.json vllm.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import multiprocessing as mp
import os
import platform
import queue as queue_mod
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

DEFAULT_PROMPT = (
    "Write a long, detailed story about a lighthouse keeper who discovers a message in a "
    "bottle. Describe the sea, the weather and the keeper's daily routine."
)

DELTA_EVENT = "response.output_text.delta"
FINAL_EVENTS = frozenset({"response.completed", "response.incomplete"})
ERROR_EVENTS = frozenset({"error", "response.failed"})

# How long the parent waits for a client process that has neither reported nor died.
_CHILD_POLL_S = 0.5


# --------------------------------------------------------------------------------------------
# Data passed between the parent and the client processes (all picklable, module level).
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    """What one request produced, as seen by the client."""

    ok: bool
    error: str | None = None
    ttft_s: float | None = None
    e2e_s: float = 0.0
    output_tokens: int = 0
    usage_reported: bool = False
    n_deltas: int = 0
    n_events: int = 0
    itl_s: list[float] = field(default_factory=list)
    tpot_s: float | None = None


@dataclass(slots=True)
class ChildSpec:
    """Everything a client process needs to run its share of one concurrency level."""

    index: int
    workers: int
    url: str
    body: bytes
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


# --------------------------------------------------------------------------------------------
# One streaming request.
# --------------------------------------------------------------------------------------------


def _error_message(payload: Any) -> str:
    """Best-effort short text of an ``error`` / ``response.failed`` event payload."""
    if isinstance(payload, dict):
        err = payload.get("error")
        if err is None and isinstance(payload.get("response"), dict):
            err = payload["response"].get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or err)[:200]
        if err is not None:
            return str(err)[:200]
        if "message" in payload:
            return str(payload["message"])[:200]
    return str(payload)[:200]


async def one_request(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
) -> Sample:
    """Send one streaming request, parse its SSE stream by hand and time it."""
    delta_times: list[float] = []
    n_events = 0
    output_tokens: int | None = None
    finished = False
    error: str | None = None
    t0 = time.perf_counter()

    def dispatch(name: str, data: str, now: float) -> None:
        nonlocal n_events, output_tokens, finished, error
        if data == "[DONE]":
            return
        n_events += 1
        payload: Any = None
        if not name:  # no `event:` line: the type lives in the JSON
            try:
                payload = json.loads(data)
            except ValueError:
                return
            name = payload.get("type", "") if isinstance(payload, dict) else ""
        if name == DELTA_EVENT:
            delta_times.append(now)
            return
        if name in FINAL_EVENTS:
            finished = True
            if payload is None:
                try:
                    payload = json.loads(data)
                except ValueError:
                    payload = {}
            usage = (
                (payload.get("response") or {}).get("usage") if isinstance(payload, dict) else None
            )
            if isinstance(usage, dict) and isinstance(usage.get("output_tokens"), int):
                output_tokens = usage["output_tokens"]
        elif name in ERROR_EVENTS:
            if payload is None:
                try:
                    payload = json.loads(data)
                except ValueError:
                    payload = data
            error = f"{name}: {_error_message(payload)}"

    try:
        async with (
            asyncio.timeout(timeout_s),
            client.stream("POST", url, content=body, headers=headers) as resp,
        ):
            if resp.status_code != 200:
                text = (await resp.aread())[:200].decode("utf-8", "replace")
                return Sample(
                    ok=False,
                    error=f"HTTP {resp.status_code}: {text}",
                    e2e_s=time.perf_counter() - t0,
                )
            buf = b""
            event_name = ""
            data_lines: list[str] = []
            async for chunk in resp.aiter_bytes():
                now = time.perf_counter()
                buf += chunk
                lines = buf.split(b"\n")
                buf = lines.pop()
                for raw in lines:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    if not line:
                        if data_lines:
                            dispatch(event_name, "\n".join(data_lines), now)
                        event_name = ""
                        data_lines = []
                    elif line.startswith("data:"):
                        value = line[5:]
                        data_lines.append(value[1:] if value.startswith(" ") else value)
                    elif line.startswith("event:"):
                        value = line[6:]
                        event_name = value[1:] if value.startswith(" ") else value
                    # `id:`, `retry:` and `:` comment lines are ignored.
            end = time.perf_counter()
            if buf.strip():  # a last line without its newline
                line = buf.decode("utf-8", "replace").rstrip("\r")
                if line.startswith("data:"):
                    value = line[5:]
                    data_lines.append(value[1:] if value.startswith(" ") else value)
            if data_lines:  # a last event without its blank line
                dispatch(event_name, "\n".join(data_lines), end)
    except TimeoutError:
        return Sample(
            ok=False, error=f"timeout after {timeout_s:g}s", e2e_s=time.perf_counter() - t0
        )
    except Exception as exc:  # network errors, protocol errors, ...
        return Sample(
            ok=False,
            error=f"{type(exc).__name__}: {str(exc)[:160]}",
            e2e_s=time.perf_counter() - t0,
        )

    e2e = end - t0
    if error is None and not finished:
        error = "stream ended without response.completed"
    if error is not None:
        return Sample(ok=False, error=error, e2e_s=e2e, n_events=n_events)

    itl = [b - a for a, b in itertools.pairwise(delta_times)]
    usage_reported = output_tokens is not None
    tokens = output_tokens if output_tokens is not None else len(delta_times)
    tpot = None
    if len(delta_times) >= 2 and tokens >= 2:
        tpot = (delta_times[-1] - delta_times[0]) / (tokens - 1)
    return Sample(
        ok=True,
        ttft_s=(delta_times[0] - t0) if delta_times else None,
        e2e_s=e2e,
        output_tokens=tokens,
        usage_reported=usage_reported,
        n_deltas=len(delta_times),
        n_events=n_events,
        itl_s=itl,
        tpot_s=tpot,
    )


# --------------------------------------------------------------------------------------------
# Client process.
# --------------------------------------------------------------------------------------------


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
    client: httpx.AsyncClient, spec: ChildSpec, take: Callable[[], bool], out: list[Sample]
) -> None:
    while take():
        out.append(await one_request(client, spec.url, spec.body, spec.headers, spec.timeout_s))


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
        await asyncio.gather(*(_worker(client, spec, take_warm, warm) for _ in range(spec.workers)))
        # Nothing else runs on this loop now, so blocking it on the barrier is harmless.
        barrier.wait()
        start = time.monotonic()
        cpu0 = time.process_time()
        samples: list[Sample] = []
        take = _shared_taker(main_counter, spec.requests_total)
        await asyncio.gather(*(_worker(client, spec, take, samples) for _ in range(spec.workers)))
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


def _child_main(spec: ChildSpec, main_counter: Any, barrier: Any, results: Any) -> None:
    """Entry point of a client process (spawned)."""
    try:
        result = asyncio.run(_child_async(spec, main_counter, barrier))
    except BaseException as exc:
        barrier.abort()  # do not leave the other processes waiting
        result = ChildResult(
            index=spec.index, workers=spec.workers, fatal=f"{type(exc).__name__}: {exc}"
        )
    results.put(result)


# --------------------------------------------------------------------------------------------
# Parent: one concurrency level.
# --------------------------------------------------------------------------------------------


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
            body=args.body,
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
            target=_child_main,
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

    fatal = [f"process {r.index}: {r.fatal}" for r in collected.values() if r.fatal]
    good = [r for r in collected.values() if not r.fatal]
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


# --------------------------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------------------------


def _fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.{digits}f}"


def markdown_table(levels: Sequence[dict[str, Any]]) -> str:
    """The per-level results as a markdown table."""
    header = (
        "| conc | procs | requests | errors | wall s | req/s | out tok/s | TTFT p50 ms "
        "| TTFT p99 ms | ITL p50 ms | ITL p99 ms | client CPU max % | client cores |"
    )
    sep = "|" + "---:|" * 13
    rows = [header, sep]
    for lv in levels:
        cpu = lv["client_cpu"]
        rows.append(
            "| "
            + " | ".join(
                [
                    str(lv["concurrency"]),
                    str(lv["processes"]),
                    str(lv["requests"]),
                    str(lv["errors"]),
                    _fmt(lv["wall_s"], 2),
                    _fmt(lv["requests_per_s"], 2),
                    _fmt(lv["output_tokens_per_s"], 1),
                    _fmt(lv["ttft_ms"]["p50"], 1),
                    _fmt(lv["ttft_ms"]["p99"], 1),
                    _fmt(lv["itl_ms"]["p50"], 2),
                    _fmt(lv["itl_ms"]["p99"], 2),
                    _fmt(cpu["max_process_busy_pct"], 0),
                    _fmt(cpu["cores_used"], 2),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def compare_table(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Markdown table of run A against run B, per concurrency level present in both."""
    la, lb = a.get("label", "A"), b.get("label", "B")
    by_b = {lv["concurrency"]: lv for lv in b["levels"]}
    rows = [
        f"A = {la} ({a.get('base_url', '?')}), B = {lb} ({b.get('base_url', '?')})",
        "",
        f"| conc | {la} out tok/s | {lb} out tok/s | throughput A/B | {la} TTFT p50 ms "
        f"| {lb} TTFT p50 ms | TTFT p50 A-B ms | errors A / B |",
        "|" + "---:|" * 8,
    ]
    for lv_a in a["levels"]:
        c = lv_a["concurrency"]
        lv_b = by_b.get(c)
        if lv_b is None:
            continue
        ta, tb = lv_a["output_tokens_per_s"], lv_b["output_tokens_per_s"]
        ratio = ta / tb if tb else None
        fa, fb = lv_a["ttft_ms"]["p50"], lv_b["ttft_ms"]["p50"]
        diff = fa - fb if fa is not None and fb is not None else None
        rows.append(
            f"| {c} | {_fmt(ta)} | {_fmt(tb)} | "
            + (f"{ratio:.3f}" if ratio is not None else "-")
            + f" | {_fmt(fa)} | {_fmt(fb)} | "
            + (f"{diff:+.1f}" if diff is not None else "-")
            + f" | {lv_a['errors']} / {lv_b['errors']} |"
        )
    missing = sorted(
        {lv["concurrency"] for lv in a["levels"]} ^ {lv["concurrency"] for lv in b["levels"]}
    )
    if missing:
        rows += ["", f"(concurrency levels in only one file, skipped: {missing})"]
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# CLI.
# --------------------------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text}") from exc
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("concurrency levels must be positive integers")
    return values


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be at least 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The parser of the load-test command (the default subcommand)."""
    p = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="Streaming /responses load generator. "
        "`python -m bench.load compare A.json B.json` compares two --json-out files.",
    )
    p.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000/v1",
        help="API root; requests go to {base-url}/responses",
    )
    p.add_argument("--model", required=True, help="model name sent in the body")
    p.add_argument(
        "--concurrency",
        type=_int_list,
        default=[1, 4, 16, 64],
        help="comma-separated concurrency levels (default 1,4,16,64)",
    )
    p.add_argument(
        "--requests",
        type=_positive_int,
        default=None,
        help="measured requests per level (default max(32, 4*concurrency))",
    )
    p.add_argument("--max-output-tokens", type=_positive_int, default=64)
    p.add_argument(
        "--processes",
        type=_positive_int,
        default=None,
        help="client processes per level (default min(concurrency, CPUs); "
        "never more than the concurrency)",
    )
    p.add_argument(
        "--warmup",
        type=_non_negative_int,
        default=None,
        help="untimed requests per level before the measured ones "
        "(default: the concurrency, i.e. one per worker)",
    )
    p.add_argument("--prompt", default=DEFAULT_PROMPT, help="the `input` text")
    p.add_argument("--label", default="bench", help="name of this run in the output")
    p.add_argument("--json-out", default=None, help="write all numbers to this JSON file")
    p.add_argument(
        "--ignore-eos",
        action=argparse.BooleanOptionalAction,
        default=True,
        help='send "ignore_eos": true so every request generates exactly '
        "--max-output-tokens tokens (vLLM extension; default on)",
    )
    p.add_argument(
        "--extra-body",
        default=None,
        help="JSON object merged into the request body (e.g. '{\"store\": false}')",
    )
    p.add_argument("--api-key", default=None, help="sent as `Authorization: Bearer KEY`")
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="per-request limit in seconds, whole stream included (default 300)",
    )
    return p


def run_main(argv: Sequence[str]) -> int:
    """The load-test command."""
    args = build_parser().parse_args(argv)
    body: dict[str, Any] = {
        "model": args.model,
        "input": args.prompt,
        "max_output_tokens": args.max_output_tokens,
        "stream": True,
        "temperature": 0,
    }
    if args.ignore_eos:
        body["ignore_eos"] = True
    if args.extra_body:
        extra = json.loads(args.extra_body)
        if not isinstance(extra, dict):
            raise SystemExit("--extra-body must be a JSON object")
        body.update(extra)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if args.api_key:
        headers["Authorization"] = f"Bearer {args.api_key}"
    args.url = args.base_url.rstrip("/") + "/responses"
    args.body = json.dumps(body).encode()
    args.headers = headers

    report: dict[str, Any] = {
        "label": args.label,
        "base_url": args.base_url,
        "url": args.url,
        "model": args.model,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {
            "concurrency": args.concurrency,
            "requests": args.requests,
            "max_output_tokens": args.max_output_tokens,
            "processes": args.processes,
            "warmup": args.warmup,
            "ignore_eos": args.ignore_eos,
            "timeout_s": args.timeout,
            "prompt": args.prompt,
            "body": body,
        },
        "client_host": {
            "cpus": cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "httpx": httpx.__version__,
        },
        "levels": [],
    }
    for c in args.concurrency:
        print(f"[{args.label}] concurrency {c} ...", file=sys.stderr, flush=True)
        level = run_level(args, c)
        report["levels"].append(level)
        print(
            f"[{args.label}] concurrency {c}: {level['ok']} ok, {level['errors']} errors, "
            f"{level['output_tokens_per_s']:.1f} out tok/s",
            file=sys.stderr,
            flush=True,
        )
        for kind, count in level["error_kinds"].items():
            print(f"    {count} x {kind}", file=sys.stderr)
        for msg in level["fatal"]:
            print(f"    client {msg}", file=sys.stderr)
        if args.json_out:  # write after every level, so an interrupted run keeps its numbers
            _write_json(args.json_out, report)

    print(
        f"### {args.label}: {args.url} model={args.model} "
        f"max_output_tokens={args.max_output_tokens} ignore_eos={args.ignore_eos}\n"
    )
    print(markdown_table(report["levels"]))
    return 1 if any(lv["errors"] or lv["fatal"] for lv in report["levels"]) else 0


def _write_json(path: str, report: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2, default=_json_default)
        fh.write("\n")
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def compare_main(argv: Sequence[str]) -> int:
    """The ``compare A.json B.json`` command."""
    p = argparse.ArgumentParser(
        prog="python -m bench.load compare",
        description="Compare two --json-out files: throughput A/B and TTFT p50 A-B.",
    )
    p.add_argument("a", help="JSON file of run A")
    p.add_argument("b", help="JSON file of run B")
    args = p.parse_args(argv)
    with open(args.a, encoding="utf-8") as fh:
        a = json.load(fh)
    with open(args.b, encoding="utf-8") as fh:
        b = json.load(fh)
    print(compare_table(a, b))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``compare`` or the load test."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "compare":
        return compare_main(argv[1:])
    return run_main(argv)


if __name__ == "__main__":
    sys.exit(main())
