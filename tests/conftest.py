"""Shared fixtures: running stacks (launcher + sidecar + Sanic) and a redis-server, started
once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import RedisServer
from tests.stack import Stack


def _stack(*args: str, **kwargs: object) -> Iterator[Stack]:
    stack = Stack(*args, **kwargs).start()  # type: ignore[arg-type]
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def fake_stack() -> Iterator[Stack]:
    """Fake sidecar (instant, 12-word reply), one Sanic worker, native mode."""
    yield from _stack("--fake")


@pytest.fixture(scope="session")
def slow_stack() -> Iterator[Stack]:
    """Fake sidecar that takes 20 ms a token over 400 tokens: for disconnects and cancels."""
    yield from _stack("--fake", "--fake-token-delay", "0.02", "--fake-reply-tokens", "400")


@pytest.fixture(scope="session")
def reasoning_stack() -> Iterator[Stack]:
    yield from _stack("--fake", "--fake-reasoning")


@pytest.fixture(scope="session")
def compat_stack() -> Iterator[Stack]:
    yield from _stack("--fake", compat=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a Unix socket (`fresh_url()` gives each user a clean database)."""
    server = RedisServer()
    yield server
    server.stop()
