"""Prometheus metrics of the frontend: requests, latency, time to first token, tokens, store.

Owns metric names, the /metrics exposition, and the multiprocess folder: with several Sanic
workers every worker writes its samples into PROMETHEUS_MULTIPROC_DIR and /metrics sums them.
The main process makes that folder itself (`own_multiprocess_dir`) when none is given, so
`sanic frontend.app --workers N` started on its own serves correct totals.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

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
INPUT_TOKENS = Counter("portico_input_tokens", "Prompt tokens processed", ["model"])
CACHED_TOKENS = Counter("portico_cached_input_tokens", "Prompt tokens served from cache", ["model"])
OUTPUT_TOKENS = Counter("portico_output_tokens", "Output tokens generated", ["model"])
RESPONSES = Counter("portico_responses", "Responses finished, by final status", ["model", "status"])
IN_FLIGHT = Gauge(
    "portico_requests_in_flight", "Requests being served", multiprocess_mode="livesum"
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


def exposition() -> tuple[bytes, str]:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
