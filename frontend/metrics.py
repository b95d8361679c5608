"""Prometheus metrics of the frontend: requests, latency, time to first token, tokens, store.

Owns metric names and the /metrics exposition. With several Sanic workers, set
PROMETHEUS_MULTIPROC_DIR (the launcher does) so /metrics sums every worker.
"""

from __future__ import annotations

import os

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


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
