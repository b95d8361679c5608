"""request_body.py on a real socket: a body that stops short of its Content-Length is a 408
within REQUEST_TIMEOUT, not a connection held for RESPONSE_TIMEOUT (a day)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests import spec
from tests.stack import Stack

TIMEOUT = 2  # PORTICO_REQUEST_TIMEOUT: Sanic's REQUEST_TIMEOUT, read with Portico's prefix
BODY = json.dumps({"model": "fake-model", "input": "hi"}).encode()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack("--fake", env={"PORTICO_REQUEST_TIMEOUT": str(TIMEOUT)}).start()
    yield stack
    stack.stop()


def headers(length: int) -> bytes:
    return (
        "POST /v1/responses HTTP/1.1\r\nHost: portico\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def read_reply(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length (or what came before the socket closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise AssertionError(f"the connection closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    fields = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(fields.get("content-length", "0")):
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), fields, body


def test_a_body_short_of_its_length_is_a_408(stack: Stack) -> None:
    with socket.create_connection(("127.0.0.1", stack.port), timeout=TIMEOUT + 20) as conn:
        conn.sendall(headers(len(BODY) + 50) + BODY)  # 50 bytes promised, never sent
        started = time.monotonic()
        status, fields, body = read_reply(conn)
        waited = time.monotonic() - started
        assert status == 408, body
        error: dict[str, Any] = json.loads(body)
        spec.validate_error(error)
        assert error["error"]["code"] == "request_timeout"
        assert error["error"]["type"] == "invalid_request_error"
        assert TIMEOUT - 0.5 <= waited < TIMEOUT + 15
        assert fields.get("connection") == "close"
        assert conn.recv(65536) == b""  # and the connection is closed


def test_a_slow_body_within_the_timeout_is_served(stack: Stack) -> None:
    with socket.create_connection(("127.0.0.1", stack.port), timeout=TIMEOUT + 20) as conn:
        conn.sendall(headers(len(BODY)) + BODY[:10])
        time.sleep(TIMEOUT / 4)
        conn.sendall(BODY[10:])
        status, _, body = read_reply(conn)
        assert status == 200, body
        spec.validate_response(json.loads(body))
