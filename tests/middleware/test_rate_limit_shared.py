"""Rate limits on real stacks: the openai SDK's retry honouring retry-after-ms, and limits
that hold across frontend processes (two launchers, three workers) on one real Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import httpx2  # the transport the openai SDK is built on
import openai
import pytest

from tests.pods import call, two_pods
from tests.redis_server import RedisServer
from tests.stack import Stack


@pytest.fixture(scope="module")
def limited_stack() -> Iterator[Stack]:
    stack = Stack("--fake", env={"PORTICO_RATE_LIMIT_RPM": "30"}).start()  # one per 2 s
    yield stack
    stack.stop()


def spend(stack: Stack) -> int:
    """Take every request the bucket holds (30: a minute's worth); how many were taken."""
    body = {"model": "fake-model", "input": "hi", "max_output_tokens": 1}
    with httpx.Client(timeout=30) as client:
        for taken in range(40):
            if client.post(stack.url("/v1/responses"), json=body).status_code == 429:
                return taken
    raise AssertionError("the limit never refused")


def test_the_sdk_waits_what_retry_after_ms_says_then_succeeds(limited_stack: Stack) -> None:
    assert 29 <= spend(limited_stack) <= 31  # a burst of a minute's worth, then 429
    seen: list[tuple[float, httpx2.Response]] = []

    def record(response: httpx2.Response) -> None:
        seen.append((time.monotonic(), response))

    http = httpx2.Client(event_hooks={"response": [record]})
    client = openai.OpenAI(
        base_url=limited_stack.url("/v1"), api_key="sk-test", max_retries=2, http_client=http
    )
    started = time.monotonic()
    response = client.responses.create(model="fake-model", input="hi")  # 429, then 200
    assert response.status == "completed"
    statuses = [r.status_code for _, r in seen]
    assert statuses == [429, 200]
    (refused_at, refused), (retried_at, _) = seen
    wait = int(refused.headers["retry-after-ms"]) / 1000
    assert 0 < wait <= 2.0
    assert refused.headers["retry-after"] in ("1", "2")
    # the SDK slept what the header said (its own backoff is 0.375 to 0.5 s)
    assert wait - 0.05 <= retried_at - refused_at <= wait + 1.0
    assert time.monotonic() - started >= wait - 0.05
    http.close()


def test_the_sdk_raises_rate_limit_error_without_retries(limited_stack: Stack) -> None:
    client = limited_stack.openai()  # max_retries=0
    with pytest.raises(openai.RateLimitError) as caught:
        for _ in range(40):
            client.responses.create(model="fake-model", input="hi")
    error = caught.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded" and error.type == "requests"
    headers = error.response.headers
    assert headers["x-ratelimit-limit-requests"] == "30"
    assert headers["x-ratelimit-remaining-requests"] == "0"


def test_a_stream_carries_the_headers(limited_stack: Stack) -> None:
    time.sleep(2.1)  # one request back
    with httpx.stream(
        "POST",
        limited_stack.url("/v1/responses"),
        json={"model": "fake-model", "input": "hi", "stream": True},
        timeout=30,
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["x-ratelimit-limit-requests"] == "30"
        assert answer.headers["x-ratelimit-remaining-requests"] == "0"
        assert answer.headers["x-ratelimit-reset-requests"].endswith("s")
        answer.read()


@pytest.fixture(scope="module")
def pods(redis_server: RedisServer) -> Iterator[tuple[Stack, Stack]]:
    yield from two_pods(
        redis_server, env={"PORTICO_RATE_LIMIT_RPM": "4", "PORTICO_RATE_LIMIT_TPM": "100000"}
    )


def test_limits_hold_across_workers_and_pods(pods: tuple[Stack, Stack]) -> None:
    first, second = pods
    body = {"model": "fake-model", "input": "hi", "max_output_tokens": 20}
    answers = [call("POST", stack.url("/v1/responses"), json=body) for stack in (first, second)]
    answers += [call("POST", stack.url("/v1/responses"), json=body) for stack in (first, second)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [a.headers["x-ratelimit-remaining-requests"] for a in answers] == ["3", "2", "1", "0"]
    tokens = [int(a.headers["x-ratelimit-remaining-tokens"]) for a in answers]
    assert tokens == sorted(tokens, reverse=True)  # one bucket: each took from the same
    for stack in (first, second):
        refused = call("POST", stack.url("/v1/responses"), json=body)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["type"] == "requests"
        assert int(refused.headers["retry-after-ms"]) > 10_000  # 4 a minute: 15 s each
    metrics = call("GET", first.url("/metrics")).text
    assert 'portico_rate_limit_rejections_total{reason="requests"}' in metrics
