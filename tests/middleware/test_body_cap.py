"""The request-body cap (`--max-request-body-bytes`, PORTICO_MAX_BODY_BYTES: Sanic's
REQUEST_MAX_SIZE, answered by frontend/errors.py): a body over it is OpenAI's 413, before it
is read — a declared length over the cap is refused at once, a chunked body as soon as it
grows past it — on create and on tool outputs alike, with the request id."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests import spec
from tests.stack import Stack

CAP = 65536
MODEL = "fake-model"
GENERATED = re.compile(r"req_[0-9a-f]{32}")


@pytest.fixture(scope="module")
def capped() -> Iterator[Stack]:
    stack = Stack("--fake", "--max-request-body-bytes", str(CAP)).start()
    yield stack
    stack.stop()


def read_answer(conn: socket.socket) -> tuple[int, dict[str, str], dict[str, object]]:
    """The status, headers and JSON body of one HTTP/1.1 answer (Content-Length framed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"closed before an answer: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = conn.recv(65536)
        assert chunk
        body += chunk
    return status, headers, json.loads(body)


def assert_413(status: int, headers: dict[str, str], body: dict[str, object]) -> None:
    assert status == 413, body
    spec.validate_error(body)
    error = body["error"]
    assert isinstance(error, dict)
    assert (error["type"], error["code"]) == ("invalid_request_error", "request_too_large")
    assert GENERATED.fullmatch(headers["x-request-id"])


@pytest.mark.parametrize("path", ["/v1/responses", "/v1/responses/resp_x/tool_outputs"])
def test_a_declared_length_over_the_cap_is_413_before_the_body(capped: Stack, path: str) -> None:
    with socket.create_connection(("127.0.0.1", capped.port), timeout=10) as conn:
        started = time.monotonic()
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {50 * 1024**3}\r\n\r\n".encode()
            + b'{"model": "fake-model", '  # and nothing more: the server must not wait for it
        )
        status, headers, body = read_answer(conn)
        assert time.monotonic() - started < 5
        assert_413(status, headers, body)
        assert headers["connection"] == "close"
        conn.settimeout(5)
        assert conn.recv(1) == b""  # closed: the rest is never read


def test_a_chunked_body_that_grows_past_the_cap_is_413(capped: Stack) -> None:
    chunk = b"x" * 16384
    with socket.create_connection(("127.0.0.1", capped.port), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for _ in range(CAP // len(chunk) + 1):  # one chunk past the cap, no final chunk
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        assert_413(*read_answer(conn))


def test_a_chunked_body_under_the_cap_is_served(capped: Stack) -> None:
    body = json.dumps({"model": MODEL, "input": "hi"}).encode()
    with socket.create_connection(("127.0.0.1", capped.port), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        )
        status, _, answer = read_answer(conn)
    assert status == 200, answer


def body_of_size(size: int) -> bytes:
    """A valid create body of exactly `size` bytes."""
    empty = json.dumps({"model": MODEL, "input": ""}).encode()
    return json.dumps({"model": MODEL, "input": "y" * (size - len(empty))}).encode()


def test_the_cap_is_inclusive(capped: Stack) -> None:
    at_cap = body_of_size(CAP)
    assert len(at_cap) == CAP
    url = capped.url("/v1/responses")
    headers = {"Content-Type": "application/json"}
    assert httpx.post(url, content=at_cap, headers=headers).status_code == 200
    over = httpx.post(url, content=body_of_size(CAP + 1), headers=headers)
    assert over.status_code == 413
    spec.validate_error(over.json())


def test_sdk_gets_413_for_create_and_tool_outputs(capped: Stack) -> None:
    client = capped.openai()
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input="z" * (2 * CAP))
    assert caught.value.status_code == 413
    assert caught.value.code == "request_too_large"
    outputs = {"tool_outputs": [{"call_id": "call_1", "output": "o" * (2 * CAP)}]}
    reply = httpx.post(capped.url("/v1/responses/resp_x/tool_outputs"), json=outputs)
    assert reply.status_code == 413
    spec.validate_error(reply.json())
    assert reply.json()["error"]["code"] == "request_too_large"


def test_the_cap_holds_under_a_key_with_a_token_limit() -> None:
    # The 413's error response runs the request middleware too: the rate limiter must not
    # read the (unread) body there and turn the 413 into a 400.
    env = {"PORTICO_API_KEYS": "sk-capped", "PORTICO_RATE_LIMIT_TPM": "100000"}
    stack = Stack("--fake", "--max-request-body-bytes", "2000", env=env).start()
    try:
        answer = httpx.post(
            stack.url("/v1/responses"),
            headers={"Authorization": "Bearer sk-capped"},
            json={"model": MODEL, "input": "x" * 5000},
        )
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"]["code"] == "request_too_large"
        fits = httpx.post(
            stack.url("/v1/responses"),
            headers={"Authorization": "Bearer sk-capped"},
            json={"model": MODEL, "input": "hi"},
        )
        assert fits.status_code == 200, fits.text
        assert fits.headers["x-ratelimit-limit-tokens"] == "100000"
    finally:
        stack.stop()
