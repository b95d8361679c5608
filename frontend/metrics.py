"""Prometheus metrics of the frontend: requests, latency, time to first token, inter-token
latency, tokens, streams, queue, store, tool sessions, the sidecar; docs/deploy.md lists them.

Owns metric names, the /metrics exposition, and the multiprocess folder: with several Sanic
workers every worker writes its samples into PROMETHEUS_MULTIPROC_DIR and /metrics sums them.
The main process makes that folder itself (`own_multiprocess_dir`) when none is given, so
`sanic frontend.app --workers N` started on its own serves correct totals. The engine's own
figures are not kept here: the scraping worker asks the sidecar for them (engine_metrics.py)
and adds them to its one answer, so a pod's scrape carries them exactly once.

Labels never hold a key, a prompt or an id: `route` is the route's pattern
(`/v1/responses/<response_id>`), `model` the served model name.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# Decode steps take milliseconds to a few hundred; slower than 2.5 s is a stall.
TOKEN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5)

REQUESTS = Counter("portico_requests", "HTTP requests answered", ["route", "method", "status"])
REQUEST_SECONDS = Histogram(
    "portico_request_duration_seconds",
    "Time from request to last byte",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
TTFT_SECONDS = Histogram(
    "portico_time_to_first_token_seconds",
    "Time from request to first output token",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
# Observed once per batch of DELTA frames read together (not per token: the hot path), as the
# time since the previous batch that carried tokens divided by the tokens this one carries.
INTER_TOKEN_SECONDS = Histogram(
    "portico_inter_token_latency_seconds",
    "Time between output tokens, averaged over each batch of deltas received",
    ["model"],
    buckets=TOKEN_BUCKETS,
)


class InterTokenTally:
    """One run's inter-token observations, counted into the histogram's buckets locally and
    written in bulk every FLUSH_EVERY observations and at the run's end: an observation on
    the hot path is then a bisect and two additions (~0.5 us) instead of the histogram's
    locked writes (~2 us in one process, ~4 us in multiprocess mode, per batch)."""

    FLUSH_EVERY = 512

    def __init__(self, model: str) -> None:
        self.child = INTER_TOKEN_SECONDS.labels(model)
        self.bounds: list[float] = list(self.child._upper_bounds)  # ends with +Inf
        self.counts = [0] * len(self.bounds)
        self.total = 0.0
        self.pending = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1  # bucket i: seconds <= bound i
        self.total += seconds
        self.pending += 1
        if self.pending >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.child._sum.inc(self.total)
        for i, count in enumerate(self.counts):
            if count:
                self.child._buckets[i].inc(count)
                self.counts[i] = 0
        self.total = 0.0
        self.pending = 0


INPUT_TOKENS = Counter("portico_input_tokens", "Prompt tokens processed", ["model"])
CACHED_TOKENS = Counter("portico_cached_input_tokens", "Prompt tokens served from cache", ["model"])
OUTPUT_TOKENS = Counter("portico_output_tokens", "Output tokens generated", ["model"])
REASONING_TOKENS = Counter(
    "portico_reasoning_tokens", "Output tokens spent on reasoning", ["model"]
)
RESPONSES = Counter("portico_responses", "Responses finished, by final status", ["model", "status"])
IN_FLIGHT = Gauge(
    "portico_requests_in_flight", "Requests being served", multiprocess_mode="livesum"
)
QUEUED = Gauge(
    "portico_requests_queued",
    "Responses sent to the engine and waiting for their first token (queued or in prefill)",
    multiprocess_mode="livesum",
)
STREAMS = Gauge(
    "portico_streams_active", "Server-sent event streams open", multiprocess_mode="livesum"
)
SIDECAR_UP = Gauge(
    "portico_sidecar_up", "1 while the sidecar handshake is live", multiprocess_mode="max"
)
# The response store's totals, as the last worker to write saw them (with Redis every
# worker sees the same shared store, so the most recent value is the store's).
STORE_ENTRIES = Gauge("portico_store_entries", "Stored responses", multiprocess_mode="mostrecent")
STORE_BYTES = Gauge(
    "portico_store_bytes", "Bytes of stored responses", multiprocess_mode="mostrecent"
)
STORE_EVICTIONS = Counter(
    "portico_store_evictions",
    "Stored responses dropped: by the entry cap, the byte cap, or expired (when noticed)",
    ["reason"],
)
# Rate limits (middleware/rate_limit.py) and admission control (middleware/admission.py).
RATE_LIMIT_REJECTIONS = Counter(
    "portico_rate_limit_rejections",
    "Requests refused with 429 by a key's rate limit: requests or tokens per minute",
    ["reason"],
)
ADMISSION_REJECTIONS = Counter(
    "portico_admission_rejections",
    "Requests refused before generating: the pod's queue is full (429) or it is draining (503)",
    ["reason"],
)
# Tool-output sessions (sessions.py): opened when a response is stored waiting for its
# function calls' outputs, closed when they are submitted or when it expires (noticed lazily).
TOOL_SESSIONS_OPENED = Counter(
    "portico_tool_sessions_opened", "Responses stored waiting for tool outputs"
)
TOOL_SESSIONS_CLOSED = Counter(
    "portico_tool_sessions_closed",
    "Tool-output sessions ended: outputs submitted (continued) or timed out (expired)",
    ["reason"],
)
# "sum", not "livesum": a session opened by one worker may be closed by another (or by
# another pod: sum over pods), and a worker's share must outlive it.
TOOL_SESSIONS_PENDING = Gauge(
    "portico_tool_sessions_pending",
    "Tool-output sessions opened and not yet continued or expired",
    multiprocess_mode="sum",
)


P = ParamSpec("P")
R = TypeVar("R")


def counts_stream(
    stream: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorates a coroutine that writes one SSE stream: `portico_streams_active` while it
    runs (however it ends: finished, failed, or cancelled when the client left)."""

    @functools.wraps(stream)
    async def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        with STREAMS.track_inprogress():
            return await stream(*args, **kwargs)

    return counted


def tool_session_opened() -> None:
    TOOL_SESSIONS_OPENED.inc()
    TOOL_SESSIONS_PENDING.inc()


def tool_session_closed(reason: str) -> None:
    """`reason`: "continued" or "expired"."""
    TOOL_SESSIONS_CLOSED.labels(reason).inc()
    TOOL_SESSIONS_PENDING.dec()


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def own_multiprocess_dir(workers: int) -> str | None:
    """In the main process, before the workers start: with several workers and no
    PROMETHEUS_MULTIPROC_DIR given, make a fresh folder for this run and export it, so every
    worker (started after, inheriting the environment) writes its samples there. Returns the
    folder made (for `drop_multiprocess_dir` at the end), or None when there was none to make.
    A folder given by the operator is theirs: used as it is, never removed."""
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        return None
    path = tempfile.mkdtemp(prefix="portico-metrics-")
    os.environ[MULTIPROC_ENV] = path
    return path


def drop_multiprocess_dir(path: str | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
        if os.environ.get(MULTIPROC_ENV) == path:
            del os.environ[MULTIPROC_ENV]


class _Scrape:
    """One scrape's sources: the workers' samples, then this scrape's own (engine figures)."""

    def __init__(self, base: Collector | CollectorRegistry, extra: Iterable[Collector]) -> None:
        self.sources = [base, *extra]

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def exposition(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """The text a scrape answers: every worker's samples (summed in multiprocess mode) and
    `extra` collectors, which only this scrape reports."""
    base: Collector | CollectorRegistry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        base = registry
    return generate_latest(_Scrape(base, extra)), CONTENT_TYPE_LATEST
