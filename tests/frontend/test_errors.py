"""Bad input gets an OpenAI-shaped error with the right status and param; never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

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


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"background": True}, "background"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"include": ["reasoning.encrypted_content"]}, "include[0]"),
        ({"truncation": "auto"}, "truncation"),
        ({"reasoning": {"effort": "high"}}, "reasoning.effort"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"max_tool_calls": 2}, "max_tool_calls"),
        ({"service_tier": "flex"}, "service_tier"),
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
    assert_error(httpx.put(fake_stack.url("/v1/responses")), 405)


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
