"""Native vs compatibility mode, stored responses, /v1/models, /metrics, several workers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import spec
from tests.sdk import extra_field
from tests.sse import post_stream
from tests.stack import Stack

MODEL = "fake-model"


def test_native_mode_accepts_vllm_sampling_fields(fake_stack: Stack) -> None:
    body = {
        "model": MODEL,
        "input": "hi",
        "top_k": 5,
        "min_p": 0.1,
        "repetition_penalty": 1.1,
        "seed": 7,
        "stop": ["zzz"],
        "ignore_eos": True,
        "priority": 0,
    }
    reply = httpx.post(fake_stack.url("/v1/responses"), json=body)
    assert reply.status_code == 200, reply.text


def test_compatibility_mode_refuses_extensions_and_sends_no_done(compat_stack: Stack) -> None:
    reply = httpx.post(
        compat_stack.url("/v1/responses"), json={"model": MODEL, "input": "hi", "top_k": 5}
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "top_k"
    stream = post_stream(
        compat_stack.url("/v1/responses"), {"model": MODEL, "input": "hi", "stream": True}
    )
    spec.validate_event_sequence(stream.events)
    assert not stream.done


def test_models_list(fake_stack: Stack) -> None:
    body = httpx.get(fake_stack.url("/v1/models")).json()
    spec.validate_models_list(body)
    assert [m["id"] for m in body["data"]] == [MODEL]
    assert fake_stack.openai().models.retrieve(MODEL).id == MODEL
    assert httpx.get(fake_stack.url("/v1/models/other")).status_code == 404


def test_health(fake_stack: Stack) -> None:
    reply = httpx.get(fake_stack.url("/health"))
    assert reply.status_code == 200 and reply.json()["status"] == "ok"


def test_stored_response_retrieve_delete_and_continue(fake_stack: Stack) -> None:
    client = fake_stack.openai()
    first = client.responses.create(model=MODEL, input="remember me")
    fetched = client.responses.retrieve(first.id)
    assert fetched.model_dump() == first.model_dump()
    follow = client.responses.create(model=MODEL, input="and now?", previous_response_id=first.id)
    assert follow.previous_response_id == first.id
    # the follow-up prompt carries the earlier turn: more input tokens than a fresh request
    fresh = client.responses.create(model=MODEL, input="and now?")
    assert follow.usage.input_tokens > fresh.usage.input_tokens  # type: ignore[union-attr]
    deleted = httpx.delete(fake_stack.url(f"/v1/responses/{first.id}")).json()
    assert deleted == {"id": first.id, "object": "response", "deleted": True}
    assert httpx.get(fake_stack.url(f"/v1/responses/{first.id}")).status_code == 404


def test_store_false_is_not_kept(fake_stack: Stack) -> None:
    response = fake_stack.openai().responses.create(model=MODEL, input="x", store=False)
    assert extra_field(response, "store") is False
    assert httpx.get(fake_stack.url(f"/v1/responses/{response.id}")).status_code == 404


def test_streamed_response_is_stored(fake_stack: Stack) -> None:
    stream = post_stream(
        fake_stack.url("/v1/responses"), {"model": MODEL, "input": "hi", "stream": True}
    )
    final = stream.events[-1]["response"]
    stored = httpx.get(fake_stack.url(f"/v1/responses/{final['id']}")).json()
    assert stored == final


def test_metrics_count_requests_tokens_and_ttft(fake_stack: Stack) -> None:
    fake_stack.openai().responses.create(model=MODEL, input="count me")
    text = httpx.get(fake_stack.url("/metrics")).text
    assert 'portico_requests_total{method="POST",route="/v1/responses",status="200"}' in text
    assert "portico_time_to_first_token_seconds_count" in text
    assert "portico_output_tokens_total" in text
    assert 'portico_responses_total{model="fake-model",status="completed"}' in text


def test_request_id_is_kept_or_made(fake_stack: Stack) -> None:
    given = httpx.get(fake_stack.url("/health"), headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = httpx.get(fake_stack.url("/health"))
    assert made.headers["x-request-id"].startswith("req_")


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Stack]:
    stack = Stack("--fake", workers=2).start()
    yield stack
    stack.stop()


def test_two_workers_serve_and_metrics_sum_both(two_workers: Stack) -> None:
    client = two_workers.openai()
    for _ in range(12):
        assert client.responses.create(model=MODEL, input="hi").status == "completed"
    text = httpx.get(two_workers.url("/metrics")).text
    line = next(
        x
        for x in text.splitlines()
        if x.startswith('portico_requests_total{method="POST",route="/v1/responses"')
    )
    assert float(line.split()[-1]) == 12.0
