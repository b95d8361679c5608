"""Every engine outcome, honestly: finish reasons, failures mid-stream, the generation timeout,
Sanic's response timeout kept out of the way, and cancelling by id from outside the request.

Runs the real launcher, Sanic and the fake sidecar; the fake engine's directives in the input
(`fake:finish=…`, `fake:raise`, `fake:delay=…`; see inference/fake.py) pick the outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from frontend.client.uds import UdsSidecarClient
from tests import spec
from tests.sse import post_stream
from tests.stack import Stack

MODEL = "fake-model"


@pytest.fixture(scope="module")
def outcome_stack() -> Iterator[Stack]:
    """Its own fake stack: the failures here log errors other tests' stacks must not show."""
    stack = Stack("--fake").start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def timeout_stack() -> Iterator[Stack]:
    """Generations limited to 1 s."""
    stack = Stack("--fake", env={"PORTICO_GENERATION_TIMEOUT": "1"}).start()
    yield stack
    stack.stop()


def stream(stack: Stack, text: str, **extra: Any) -> list[dict[str, Any]]:
    reply = post_stream(
        stack.url("/v1/responses"), {"model": MODEL, "input": text, "stream": True, **extra}
    )
    assert reply.status == 200, reply.body
    spec.validate_event_sequence(reply.events)
    return reply.events


def post(stack: Stack, text: str, **extra: Any) -> httpx.Response:
    body = {"model": MODEL, "input": text, **extra}
    return httpx.post(stack.url("/v1/responses"), json=body, timeout=60)


# --- finish reasons -----------------------------------------------------------------------


def test_engine_error_fails_the_stream(outcome_stack: Stack) -> None:
    events = stream(outcome_stack, "fake:finish=error")
    final = events[-1]
    assert final["type"] == "response.failed"
    assert final["response"]["status"] == "failed"
    assert final["response"]["error"]["code"] == "server_error"
    assert "fake engine failed" in final["response"]["error"]["message"]


def test_engine_error_is_a_retryable_500_as_json(outcome_stack: Stack) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        outcome_stack.openai().responses.create(model=MODEL, input="fake:finish=error")
    spec.validate_error(caught.value.response.json())


def test_repetition_is_a_failed_response_not_completed(outcome_stack: Stack) -> None:
    reply = post(outcome_stack, "fake:finish=repetition")
    assert reply.status_code == 200
    body = reply.json()
    spec.validate_response(body)
    assert body["status"] == "failed"
    assert "repeating" in body["error"]["message"]
    events = stream(outcome_stack, "fake:finish=repetition")
    assert events[-1]["type"] == "response.failed"


def test_abort_is_cancelled(outcome_stack: Stack) -> None:
    body = post(outcome_stack, "fake:finish=abort").json()
    assert body["status"] == "cancelled"
    spec.validate_response(body)
    events = stream(outcome_stack, "fake:finish=abort")
    assert events[-1]["type"] == "response.failed"  # the spec has no response.cancelled event
    assert events[-1]["response"]["status"] == "cancelled"


def test_stop_and_length_stay_completed_and_incomplete(outcome_stack: Stack) -> None:
    assert post(outcome_stack, "hi").json()["status"] == "completed"
    body = post(outcome_stack, "hi", max_output_tokens=2).json()
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}


def test_exception_mid_stream_ends_with_response_failed(outcome_stack: Stack) -> None:
    events = stream(outcome_stack, "fake:raise")
    assert [e["type"] for e in events][:2] == ["response.created", "response.in_progress"]
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert outcome_stack.wait_idle().running == 0


def test_exception_mid_request_is_a_500(outcome_stack: Stack) -> None:
    reply = post(outcome_stack, "fake:raise")
    assert reply.status_code == 500
    spec.validate_error(reply.json())


def test_failed_responses_are_stored_in_their_final_state(outcome_stack: Stack) -> None:
    events = stream(outcome_stack, "fake:finish=error")
    response_id = events[0]["response"]["id"]
    stored = outcome_stack.openai().responses.retrieve(response_id)
    assert stored.status == "failed" and stored.error is not None


# --- timeouts -------------------------------------------------------------------------------


def test_long_json_generation_outlives_sanics_response_timeout() -> None:
    """PORTICO_RESPONSE_TIMEOUT=1 would make Sanic answer 503 after 1 s; the generation
    timeout (off here) is the only limit, so a 2.6 s generation completes."""
    stack = Stack("--fake", env={"PORTICO_RESPONSE_TIMEOUT": "1"}).start()
    try:
        response = stack.openai(timeout=30).responses.create(
            model=MODEL, input="fake:delay=0.2 tell me"
        )
        assert response.status == "completed"
        assert response.usage is not None and response.usage.output_tokens == 13
    finally:
        stack.stop()


def test_generation_timeout_fails_a_json_response(timeout_stack: Stack) -> None:
    reply = post(timeout_stack, "fake:delay=0.2 slow")
    assert reply.status_code == 200  # not a 503 the SDK would retry
    body = reply.json()
    spec.validate_response(body)
    assert body["status"] == "failed"
    assert "generation timeout of 1 s" in body["error"]["message"]
    assert 0 < len(body["output"][0]["content"][0]["text"].split()) < 13  # what came before
    assert timeout_stack.wait_idle().running == 0  # the engine request was aborted


def test_generation_timeout_fails_a_stream(timeout_stack: Stack) -> None:
    events = stream(timeout_stack, "fake:delay=0.2 slow")
    assert events[-1]["type"] == "response.failed"
    assert "generation timeout" in events[-1]["response"]["error"]["message"]
    assert timeout_stack.wait_idle().running == 0


def test_generation_under_the_timeout_completes(timeout_stack: Stack) -> None:
    assert post(timeout_stack, "fake:delay=0.02 quick").json()["status"] == "completed"


# --- cancel by id, and clients leaving --------------------------------------------------------


def test_cancel_by_id_ends_a_stream_as_cancelled(slow_stack: Stack) -> None:
    """Another process (here the test, as another worker would) cancels by response id."""
    body = {"model": MODEL, "input": "long", "stream": True}
    events: list[dict[str, Any]] = []
    with httpx.stream("POST", slow_stack.url("/v1/responses"), json=body, timeout=30) as reply:
        for line in reply.iter_lines():
            if not line.startswith("data: {"):
                continue
            events.append(json.loads(line[len("data: ") :]))
            if len(events) == 5:
                response_id = events[0]["response"]["id"]
                assert asyncio.run(_cancel(slow_stack, response_id)) is True
    spec.validate_event_sequence(events)
    assert events[-1]["response"]["status"] == "cancelled"
    assert slow_stack.wait_idle().running == 0
    stored = slow_stack.openai().responses.retrieve(events[0]["response"]["id"])
    assert stored.status == "cancelled"


def test_a_client_leaving_leaves_a_cancelled_stored_response(slow_stack: Stack) -> None:
    body = {"model": MODEL, "input": "long", "stream": True}
    response_id = ""
    with httpx.stream("POST", slow_stack.url("/v1/responses"), json=body, timeout=30) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: {") and not response_id:
                response_id = json.loads(line[len("data: ") :])["response"]["id"]
            elif response_id and line.startswith("data: {"):
                break
    assert slow_stack.wait_idle().running == 0
    client = slow_stack.openai()
    for _ in range(50):  # the store write follows the disconnect by a moment
        try:
            stored = client.responses.retrieve(response_id)
            break
        except openai.NotFoundError:
            asyncio.run(asyncio.sleep(0.05))
    assert stored.status == "cancelled"


async def _cancel(stack: Stack, response_id: str) -> bool:
    client = UdsSidecarClient(stack.socket)
    try:
        return await client.cancel(response_id, reason="test")
    finally:
        await client.stop()
