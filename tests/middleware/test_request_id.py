"""Request ids (middleware/request_id.py): `X-Request-Id` kept or made on every response
(JSON, SSE, errors), hostile values replaced (never a 500), the body's `request_id` checked
against the header, and the id on every log line about the request, in the frontend and the
sidecar, as text or JSON (frontend/log_format.py, inference/log_format.py)."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import spec
from tests.frontend.routes.test_responses_routes import (
    Portico,
    Reply,
    assert_error,
    portico,
    stream_of,
)
from tests.frontend.scripted import MODEL as SCRIPTED
from tests.stack import Stack

MODEL = "fake-model"
GENERATED = re.compile(r"req_[0-9a-f]{32}")


async def create(p: Portico, headers: Any = None, **body: Any) -> Reply:
    return await p.request(
        "POST", "/v1/responses", json={"model": SCRIPTED, **body}, headers=headers or {}
    )


def header(reply: Any) -> str:
    values = reply.headers.get_list("x-request-id")
    assert len(values) == 1, values
    return str(values[0])


# --- in process ---------------------------------------------------------------------------


async def test_the_callers_id_is_echoed_on_json_sse_and_errors() -> None:
    given = {"X-Request-Id": "abc-123.4:5_6"}
    reply = await create(portico(), given, input="hi")
    assert reply.status_code == 200 and header(reply) == "abc-123.4:5_6"
    p = portico()
    stream = await create(p, given, input="hi", stream=True)
    stream_of(stream)
    assert header(stream) == "abc-123.4:5_6"
    assert p.client.requests[-1].trace_id == "abc-123.4:5_6"  # to the sidecar
    for method, path, body in (
        ("POST", "/v1/responses", b"{not json"),
        ("POST", "/v1/responses", b'{"model": "nope", "input": "x"}'),
        ("GET", "/v1/responses/resp_missing", None),
        ("GET", "/nowhere", None),
        ("DELETE", "/v1/models", None),
    ):
        answer = await portico().request(method, path, content=body, headers=given)
        assert answer.status_code >= 400
        spec.validate_error(answer.json())
        assert header(answer) == "abc-123.4:5_6", (method, path)


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("X-Request-Id", "")],
        [("X-Request-Id", "x" * 129)],
        [("X-Request-Id", "has space")],
        [("X-Request-Id", "semi;colon")],
        [("X-Request-Id", "a"), ("X-Request-Id", "b")],
        [("X-Request-Id", "a"), ("x-request-id", "a")],
    ],
)
async def test_a_missing_or_hostile_id_is_replaced_by_a_fresh_one(
    headers: list[tuple[str, str]],
) -> None:
    p = portico()
    reply = await create(p, headers, input="hi")
    assert reply.status_code == 200, reply.text
    made = header(reply)
    assert GENERATED.fullmatch(made)
    assert p.client.requests[-1].trace_id == made


async def test_the_longest_allowed_id_is_kept() -> None:
    given = "A" * 128
    assert header(await create(portico(), {"X-Request-Id": given}, input="hi")) == given


@pytest.mark.parametrize("stream", [False, True])
async def test_a_body_id_that_differs_from_the_header_is_400(stream: bool) -> None:
    p = portico()
    reply = await create(p, {"X-Request-Id": "mine"}, input="hi", request_id="other", stream=stream)
    error = assert_error(reply, 400, "request_id_mismatch", "request_id")
    assert "mine" in error["message"]
    assert header(reply) == "mine"
    assert p.client.requests == []


@pytest.mark.parametrize("stream", [False, True])
async def test_an_equal_body_id_or_one_without_header_is_the_requests_id(stream: bool) -> None:
    p = portico()
    same = await create(
        p, {"X-Request-Id": "same-1"}, input="hi", request_id="same-1", stream=stream
    )
    assert same.status_code == 200 and header(same) == "same-1"
    assert p.client.requests[-1].trace_id == "same-1"
    p = portico()
    alone = await create(p, input="hi", request_id="body-only-7", stream=stream)
    assert alone.status_code == 200 and header(alone) == "body-only-7"
    assert p.client.requests[-1].trace_id == "body-only-7"
    if stream:  # a whole stream of OpenAI's events (stream_of validates them)
        assert stream_of(alone).names[-1] == "response.completed"


@pytest.mark.parametrize(
    ("value", "code"),
    [("bad id", "invalid_value"), ("x" * 300, "invalid_value"), (7, "invalid_type")],
)
async def test_a_body_id_that_is_no_id_is_400(value: object, code: str) -> None:
    reply = await create(portico(), input="hi", request_id=value)
    assert reply.status_code == 400, reply.text
    spec.validate_error(reply.json())
    assert reply.json()["error"]["param"] == "request_id"
    assert GENERATED.fullmatch(header(reply))


async def test_compatibility_mode_refuses_the_body_field() -> None:
    reply = await create(
        portico(COMPATIBILITY_MODE=True), {"X-Request-Id": "y"}, input="hi", request_id="x"
    )
    error = assert_error(reply, 400, "unknown_parameter", "request_id")
    assert "Unknown parameter" in error["message"]


# --- the real server: raw bytes, the SDK, and the logs -------------------------------------


def raw(stack: Stack, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", stack.port), timeout=timeout) as conn:
        conn.sendall(data)
        out = b""
        while b"\r\n\r\n" not in out:
            chunk = conn.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


def raw_id(answer: bytes) -> str:
    lines = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    ids = [
        line.split(b":", 1)[1].strip()
        for line in lines
        if line.lower().startswith(b"x-request-id:")
    ]
    assert len(ids) == 1, answer
    return ids[0].decode()


@pytest.mark.parametrize(
    "value",
    ["\u00e9t\u00e9".encode(), b"\xff\xfe", "\u2603".encode() * 40, b"a" * 5000, b"\x7f"],
)
def test_raw_hostile_headers_never_500(fake_stack: Stack, value: bytes) -> None:
    request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + value + b"\r\n\r\n"
    answer = raw(fake_stack, request)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert GENERATED.fullmatch(raw_id(answer))


def test_raw_header_over_sanics_limit_is_413_with_an_id(fake_stack: Stack) -> None:
    request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + b"a" * 20000 + b"\r\n\r\n"
    answer = raw(fake_stack, request)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert GENERATED.fullmatch(raw_id(answer))


def test_sdk_sees_its_id_on_json_and_streams(fake_stack: Stack) -> None:
    client = fake_stack.openai()
    response = client.responses.create(
        model=MODEL, input="hi", extra_headers={"X-Request-Id": "sdk-json-1"}
    )
    assert response._request_id == "sdk-json-1"
    with client.responses.with_streaming_response.create(
        model=MODEL, input="hi", stream=True, extra_headers={"X-Request-Id": "sdk-sse-1"}
    ) as stream:
        assert stream.headers["x-request-id"] == "sdk-sse-1"
        assert any("response.completed" in line for line in stream.iter_lines())
    made = client.responses.create(model=MODEL, input="hi")
    assert made._request_id is not None and GENERATED.fullmatch(made._request_id)


def wait_for(stack: Stack, predicate: Any, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = stack.log_path.read_text(errors="replace").splitlines()
        found = [line for line in lines if predicate(line)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_text_log_lines_carry_the_id(fake_stack: Stack) -> None:
    reply = httpx.post(
        fake_stack.url("/v1/responses"),
        json={"model": MODEL, "input": "hi"},
        headers={"X-Request-Id": "text-log-1"},
    )
    assert reply.status_code == 200
    lines = wait_for(fake_stack, lambda line: line.endswith("[request_id=text-log-1]"))
    assert any("portico.sidecar" in line and "started (priority 0)" in line for line in lines)
    assert any("ended: stop" in line for line in wait_for(fake_stack, lambda x: "text-log-1" in x))


@pytest.fixture(scope="module")
def json_stack() -> Iterator[Stack]:
    stack = Stack("--fake", "--log-format", "json").start()
    yield stack
    stack.stop()


def json_lines(stack: Stack) -> list[dict[str, Any]]:
    out = []
    for line in stack.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))  # every line that looks like JSON is JSON
    return out


def test_json_logs_carry_the_id_in_both_processes(json_stack: Stack) -> None:
    url = json_stack.url("/v1/responses")
    failed = httpx.post(
        url, json={"model": MODEL, "input": "fake:raise"}, headers={"X-Request-Id": "json-1"}
    )
    assert failed.status_code == 500
    queued = httpx.post(
        url,
        json={"model": MODEL, "input": "fake:raise", "background": True},
        headers={"X-Request-Id": "json-bg-2"},
    )
    assert queued.status_code == 200
    wait_for(json_stack, lambda line: "json-bg-2" in line and "portico.run" in line)
    lines = json_lines(json_stack)
    assert lines, json_stack.log()
    for line in lines:
        assert {"ts", "level", "logger", "message"} <= set(line), line
    mine = [line for line in lines if line.get("request_id") == "json-1"]
    loggers = {line["logger"] for line in mine}
    assert {"portico.sidecar", "portico.run"} <= loggers, mine  # sidecar and frontend
    assert any("started" in line["message"] for line in mine)
    background = [line for line in lines if line.get("request_id") == "json-bg-2"]
    assert any(line["logger"] == "portico.run" for line in background), background
    assert any(line["logger"].startswith("sanic.") for line in lines)  # Sanic's, as JSON
