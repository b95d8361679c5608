"""Bad input gets an OpenAI-shaped error with the right status and param; never a 500."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import openai
import pytest

from frontend.openai.parse import MAX_DEPTH
from tests import spec
from tests.stack import Stack

MODEL = "fake-model"


def post(stack: Stack, body: Any, **kwargs: Any) -> httpx.Response:
    if isinstance(body, (bytes, str)):
        return httpx.post(
            stack.url("/v1/responses"),
            content=body,
            headers={"content-type": "application/json"},
            **kwargs,
        )
    return httpx.post(stack.url("/v1/responses"), json=body, **kwargs)


def assert_error(
    reply: httpx.Response, status: int, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    spec.validate_error(body)
    error = body["error"]
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    assert error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        ({"input": "hi"}, "model"),
        ({"model": MODEL, "input": "hi", "bogus": 1}, "bogus"),
        ({"model": MODEL, "input": "hi", "temperature": 5}, "temperature"),
        ({"model": MODEL, "input": "hi", "top_p": -1}, "top_p"),
        ({"model": MODEL, "input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": MODEL, "input": "hi", "top_logprobs": 21}, "top_logprobs"),
        ({"model": MODEL, "input": 5}, "input"),
        ({"model": MODEL, "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"model": MODEL, "input": [{"type": "function_call", "name": "f"}]}, "input[0].call_id"),
        (
            {"model": MODEL, "input": "x", "tools": [{"type": "function", "name": "a b"}]},
            "tools[0].name",
        ),
        ({"model": MODEL, "input": "x", "metadata": {str(i): "v" for i in range(17)}}, "metadata"),
        ({"model": MODEL, "input": "x", "metadata": {"k": "v" * 513}}, "metadata"),
    ],
)
def test_malformed_requests_are_400(fake_stack: Stack, body: Any, param: str | None) -> None:
    assert_error(post(fake_stack, body), 400, param)


def nest(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def raw(body: str) -> bytes:
    """JSON text (single-quoted here for legibility) as bytes: for what json.dumps won't write."""
    return body.replace("'", '"').encode()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        # items of the wrong JSON type where objects belong
        ({"model": MODEL, "input": [1]}, "input[0]"),
        ({"model": MODEL, "input": [None]}, "input[0]"),
        ({"model": MODEL, "input": ["hi"]}, "input[0]"),
        ({"model": MODEL, "input": [[{"role": "user", "content": "x"}]]}, "input[0]"),
        ({"model": MODEL, "input": [{"role": "user", "content": "x"}, True]}, "input[1]"),
        ({"model": MODEL, "input": [{"type": 7, "role": "user", "content": "x"}]}, "input[0].type"),
        ({"model": MODEL, "input": [{"role": "user", "content": [1]}]}, "input[0].content[0]"),
        ({"model": MODEL, "input": [{"role": "user", "content": None}]}, "input[0].content"),
        (
            {
                "model": MODEL,
                "input": [{"role": "user", "content": [{"type": "input_text", "text": {}}]}],
            },
            "input[0].content[0].text",
        ),
        ({"model": MODEL, "input": "x", "tools": [1]}, "tools[0]"),
        ({"model": MODEL, "input": "x", "tools": [None]}, "tools[0]"),
        ({"model": MODEL, "input": "x", "tools": {"type": "function"}}, "tools"),
        ({"model": MODEL, "input": "x", "tools": [{"type": ["function"]}]}, "tools[0].type"),
        ({"model": MODEL, "input": "x", "tool_choice": 1}, "tool_choice"),
        ({"model": MODEL, "input": "x", "tool_choice": []}, "tool_choice"),
        ({"model": MODEL, "input": "x", "tool_choice": {"type": "function"}}, "tool_choice.name"),
        ({"model": MODEL, "input": "x", "text": {"format": 1}}, "text.format"),
        ({"model": MODEL, "input": "x", "text": {"format": {"type": 1}}}, "text.format.type"),
        ({"model": MODEL, "input": "x", "text": "json"}, "text"),
        (
            {
                "model": MODEL,
                "input": "x",
                "text": {"format": {"type": "json_schema", "schema": {}}},
            },
            "text.format.name",
        ),
        ({"model": MODEL, "input": "x", "include": [1]}, "include[0]"),
        ({"model": MODEL, "input": "x", "include": [None]}, "include[0]"),
        ({"model": MODEL, "input": "x", "metadata": {"a": 1}}, "metadata.a"),
        ({"model": MODEL, "input": "x", "metadata": {"a": None}}, "metadata.a"),
        ({"model": MODEL, "input": "x", "metadata": {"a": {"b": "c"}}}, "metadata.a"),
        ({"model": MODEL, "input": "x", "reasoning": []}, "reasoning"),
        ({"model": MODEL, "input": "x", "stream_options": "yes"}, "stream_options"),
        ({"model": MODEL, "input": "x", "safety_identifier": "s" * 65}, "safety_identifier"),
        # integers no layer after this one can carry (64 bits)
        ({"model": MODEL, "input": "x", "max_output_tokens": 2**64}, "max_output_tokens"),
        ({"model": MODEL, "input": "x", "seed": 10**30}, "seed"),
        ({"model": MODEL, "input": "x", "top_k": -(2**63) - 1}, "top_k"),
        ({"model": MODEL, "input": "x", "priority": 10**40}, "priority"),
        ({"model": MODEL, "input": "x", "seed": 1e20}, "seed"),  # pydantic makes it an integer
        (
            {
                "model": MODEL,
                "input": "x",
                "tools": [{"type": "function", "name": "f", "parameters": {"maxItems": 2**70}}],
                "tool_choice": "none",
            },
            "tools[0].parameters.maxItems",
        ),
        (
            {"model": MODEL, "input": "x", "chat_template_kwargs": {"n": 2**64}},
            "chat_template_kwargs.n",
        ),
    ],
)
def test_hostile_shapes_are_400(fake_stack: Stack, body: Any, param: str) -> None:
    error = assert_error(post(fake_stack, body), 400, param)
    assert error["code"] in ("invalid_type", "invalid_value", "missing_required_parameter")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        # NaN and Infinity: Python's JSON reader takes them, JSON has no such numbers
        (raw("{'model': 'fake-model', 'input': 'x', 'temperature': NaN}"), "temperature"),
        (raw("{'model': 'fake-model', 'input': 'x', 'top_p': -Infinity}"), "top_p"),
        (
            raw("{'model': 'fake-model', 'input': 'x', 'max_output_tokens': 1e999}"),
            "max_output_tokens",
        ),
        (
            raw(
                "{'model': 'fake-model', 'input': 'x', 'tool_choice': 'none', 'tools': [{'type': "
                "'function', 'name': 'f', 'parameters': {'minimum': Infinity}}]}"
            ),
            "tools[0].parameters.minimum",
        ),
        (
            raw(
                "{'model': 'fake-model', 'input': 'x', 'text': {'format': {'type': 'json_schema', "
                "'name': 'n', 'schema': {'maximum': NaN}}}}"
            ),
            "text.format.schema.maximum",
        ),
        (
            raw("{'model': 'fake-model', 'input': 'x', 'chat_template_kwargs': {'t': NaN}}"),
            "chat_template_kwargs.t",
        ),
        # lone UTF-16 surrogates: valid JSON escapes, but not Unicode (UTF-8 cannot carry them)
        (raw("{'model': 'fake-model', 'input': '\\ud800'}"), "input"),
        (raw("{'model': '\\udc00', 'input': 'x'}"), "model"),
        (raw("{'model': 'fake-model', 'input': 'x', 'metadata': {'\\ud800': 'v'}}"), "metadata"),
        (raw("{'model': 'fake-model', 'input': 'x', 'instructions': 'a\\udbffb'}"), "instructions"),
        (
            raw(
                "{'model': 'fake-model', 'input': 'x', 'tool_choice': 'none', 'tools': [{'type': "
                "'function', 'name': 'f', 'parameters': {'\\ud800': 1}}]}"
            ),
            "tools[0].parameters",
        ),
        # nesting deeper than every later layer is built for
        (
            raw("{'model': 'fake-model', 'input': 'x', 'chat_template_kwargs': {'a': %s}}")
            % nest(MAX_DEPTH),
            "chat_template_kwargs",
        ),
        (
            raw(
                "{'model': 'fake-model', 'input': 'x', 'tool_choice': 'none', 'tools': [{'type': "
                "'function', 'name': 'f', 'parameters': {'a': %s}}]}"
            )
            % nest(900),
            "tools",
        ),
        # not a JSON object, or not JSON at all
        (raw("{'model': 'fake-model', 'chat_template_kwargs': {'a': ") + nest(10**5) + b"}}", None),
        (b"", None),
        (b"null", None),
        (b'"hi"', None),
        (b"42", None),
        (b'{"model": "fake-model", "input": "\xff"}', None),  # not UTF-8
        (b"\xff\xfe{\x00}", None),
        (b"\xef\xbb\xbf{}", None),  # a UTF-8 byte order mark
        (b"{'model': 'fake-model'}", None),
    ],
)
def test_hostile_json_is_400(fake_stack: Stack, body: bytes, param: str | None) -> None:
    assert_error(post(fake_stack, body), 400, param)


def test_json_values_every_layer_can_carry_are_served(fake_stack: Stack) -> None:
    body = raw(
        "{'model': 'fake-model', 'input': 'h\\u00e9llo \\ud83d\\udc4b \\u0000', "
        "'seed': 9223372036854775807, 'priority': -9223372036854775808, "
        "'metadata': {'k': '\\u2713'}, 'chat_template_kwargs': {'a': %s}}"
    ) % nest(MAX_DEPTH - 3)
    reply = post(fake_stack, body)
    assert reply.status_code == 200, reply.text
    spec.validate_response(reply.json())
    assert reply.json()["metadata"] == {"k": "\u2713"}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"model=fake-model&input=hi", "application/x-www-form-urlencoded"),
        (
            b"--b\r\nContent-Disposition: form-data; name=model\r\n\r\nx\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
        (b"hello", "text/plain"),
    ],
)
def test_a_body_that_is_not_json_is_400_whatever_its_content_type(
    fake_stack: Stack, content: bytes, content_type: str
) -> None:
    reply = httpx.post(
        fake_stack.url("/v1/responses"), content=content, headers={"content-type": content_type}
    )
    assert_error(reply, 400)


def test_a_json_body_is_read_as_json_whatever_its_content_type(fake_stack: Stack) -> None:
    reply = httpx.post(
        fake_stack.url("/v1/responses"),
        content=json.dumps({"model": MODEL, "input": "hi"}).encode(),
        headers={"content-type": "text/plain"},
    )
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"background": True, "store": False}, "background"),
        ({"truncation": "auto"}, "truncation"),
        ({"reasoning": {"effort": "high"}}, "reasoning.effort"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"max_tool_calls": 2}, "max_tool_calls"),
        (
            {
                "tool_choice": {"type": "function", "name": "missing"},
                "tools": [{"type": "function", "name": "f"}],
            },
            "tool_choice",
        ),
        ({"tool_choice": "required"}, "tool_choice"),
        (
            {
                "input": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_image", "image_url": "http://x/y.png", "detail": "auto"}
                        ],
                    }
                ]
            },
            "input[0].content[0]",
        ),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type"),
    ],
)
def test_fields_that_cannot_be_honoured_are_named(
    fake_stack: Stack, extra: dict[str, Any], param: str
) -> None:
    body = {"model": MODEL, "input": "hi", **extra}
    assert_error(post(fake_stack, body), 400, param)
    assert_error(post(fake_stack, {**body, "stream": True}), 400, param)  # JSON, not SSE


def test_unknown_model_is_404(fake_stack: Stack) -> None:
    assert_error(
        post(fake_stack, {"model": "gpt-9", "input": "hi"}), 404, "model", "model_not_found"
    )
    with pytest.raises(openai.NotFoundError):
        fake_stack.openai().responses.create(model="gpt-9", input="hi")


def test_context_length_exceeded_is_400(fake_stack: Stack) -> None:
    long_input = "word " * 5000  # the fake engine counts a token per word; context 4096
    error = assert_error(
        post(fake_stack, {"model": MODEL, "input": long_input}),
        400,
        "input",
        "context_length_exceeded",
    )
    assert "4096" in error["message"]
    stream_error = assert_error(
        post(fake_stack, {"model": MODEL, "input": long_input, "stream": True}), 400, "input"
    )
    assert stream_error["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as caught:
        fake_stack.openai().responses.create(model=MODEL, input=long_input)
    assert caught.value.code == "context_length_exceeded"


def test_unknown_route_and_method(fake_stack: Stack) -> None:
    assert_error(httpx.get(fake_stack.url("/v1/nothing")), 404)
    reply = httpx.put(fake_stack.url("/v1/responses"))
    assert_error(reply, 405, code="method_not_allowed")
    assert reply.headers["allow"] == "POST"  # Sanic's header, kept


def send_raw(stack: Stack, data: bytes) -> tuple[int, dict[str, Any]]:
    """Bytes no HTTP client would send: the status and the JSON body of the answer."""
    answer = b""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=10) as conn:
        conn.sendall(data)
        while True:
            head, done, body = answer.partition(b"\r\n\r\n")
            if done:
                lines = head.lower().split(b"\r\n")
                sizes = [int(x.split(b":")[1]) for x in lines if x.startswith(b"content-length:")]
                if len(body) >= sum(sizes):
                    break
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nExpect: nothing-i-know\r\n"
            b"Content-Length: 2\r\n\r\n{}",
            417,
            "expectation_failed",
        ),
        (b"GET /v1/models HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n", 400, None),
        (b"NOT HTTP AT ALL\r\n\r\n", 400, None),
        (b"GET /v1/models HTTP/2.0\r\nHost: x\r\n\r\n", 400, None),
        (b"GET /v1/responses/\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, None),
        (b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n", 400, None),
        (
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            400,
            None,
        ),
        (b"GET /v1/" + b"x" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 413, "request_too_large"),
    ],
)
def test_broken_http_gets_its_own_status(
    fake_stack: Stack, data: bytes, status: int, code: str | None
) -> None:
    got, body = send_raw(fake_stack, data)
    assert got == status, body
    spec.validate_error(body)
    assert body["error"]["code"] == code


def test_body_over_the_cap_is_413(fake_stack: Stack) -> None:
    huge = b'{"model": "fake-model", "input": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    assert_error(post(fake_stack, huge), 413)


def test_retrieve_unknown_response_is_404(fake_stack: Stack) -> None:
    assert_error(httpx.get(fake_stack.url("/v1/responses/resp_nope")), 404, "response_id")
    assert_error(httpx.delete(fake_stack.url("/v1/responses/resp_nope")), 404, "response_id")
    assert_error(
        post(fake_stack, {"model": MODEL, "input": "x", "previous_response_id": "resp_nope"}),
        404,
        "previous_response_id",
    )
