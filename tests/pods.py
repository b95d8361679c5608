"""Two Portico "pods" on one real Redis for tests: a launcher with 2 workers and one with 1,
both on the fake engine, plus a client call that always takes a fresh connection (so any
worker of a pod may answer it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from tests.redis_server import RedisServer
from tests.stack import Stack


def two_pods(
    redis_server: RedisServer, *sidecar_args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[Stack, Stack]]:
    """For a module fixture: `yield from two_pods(redis_server, ...)`."""
    shared = {"PORTICO_STORE_URL": redis_server.fresh_url(), **(env or {})}
    first = Stack("--fake", *sidecar_args, workers=2, env=shared)
    second = Stack("--fake", *sidecar_args, env=shared)
    try:
        yield first.start(), second.start()
    finally:
        first.stop()
        second.stop()


def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(timeout=30) as fresh:  # a new connection: any worker may take it
        return fresh.request(method, url, **kwargs)
