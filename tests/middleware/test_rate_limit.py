"""The rate-limit layer in-process (middleware/rate_limit.py, frontend/rate_limits.py) over a
scripted sidecar: headers, the 429, token reservation and its reconciliation, key limits.
The SDK, Redis and several processes: test_rate_limit_shared.py."""

from __future__ import annotations

import json as jsonlib
import re
from types import SimpleNamespace
from typing import Any

import pytest
from sanic import Request
from sanic.response import HTTPResponse, json

from frontend import metrics
from frontend.rate_limits import DEFAULT_OUTPUT_RESERVE, duration
from frontend.store.limits import RedisLimiter
from tests import spec
from tests.frontend.routes.test_responses_routes import MODEL, Portico, Reply, assert_error, portico
from tests.frontend.scripted import reply

TRIO = ("limit", "remaining", "reset")
RESET = re.compile(r"^(\d+ms|(\d+h)?(\d+m)?\d+(\.\d{1,3})?s)$")


def limits(answer: Reply, name: str) -> tuple[int, int, str]:
    h = answer.headers
    return (
        int(h[f"x-ratelimit-limit-{name}"]),
        int(h[f"x-ratelimit-remaining-{name}"]),
        h[f"x-ratelimit-reset-{name}"],
    )


def with_key(p: Portico, **key: Any) -> None:
    """Set `request.ctx.api_key` as the auth layer would (after it, before the limits)."""

    async def set_key(request: Request) -> None:
        request.ctx.api_key = SimpleNamespace(**{"tenant": "t", "name": "k", **key})

    p.app.register_middleware(set_key, "request", priority=90)


def test_reset_durations_are_openais() -> None:
    assert duration(0) == "0s"
    assert duration(20) == "20ms"
    assert duration(1000) == "1s"
    assert duration(1500) == "1.5s"
    assert duration(17_280) == "17.28s"
    assert duration(90_000) == "1m30s"
    assert duration(360_000) == "6m0s"
    assert duration(3_600_000) == "1h0m0s"


async def test_json_and_sse_answers_carry_the_request_headers() -> None:
    p = portico(reply("a"), reply("b"), RATE_LIMIT_RPM=3)
    first = await p.create(input="hi")
    assert first.status_code == 200
    assert limits(first, "requests") == (3, 2, "20s")
    assert "x-ratelimit-limit-tokens" not in first.headers  # no token limit: no trio
    stream = await p.create(input="hi", stream=True)
    assert stream.status_code == 200 and stream.headers["content-type"].startswith(
        "text/event-stream"
    )
    limit, remaining, reset = limits(stream, "requests")
    assert (limit, remaining) == (3, 1) and RESET.match(reset)
    assert 39 <= float(reset.rstrip("s")) <= 40


async def test_a_spent_limit_is_openais_429() -> None:
    p = portico(reply("a"), RATE_LIMIT_RPM=1)
    before = metrics.RATE_LIMIT_REJECTIONS.labels("requests")._value.get()
    assert (await p.create(input="hi")).status_code == 200
    refused = await p.create(input="hi")
    error = assert_error(refused, 429, "rate_limit_exceeded")
    assert error["type"] == "requests"
    assert "Limit 1" in error["message"] and "RPM" in error["message"]
    retry_ms = int(refused.headers["retry-after-ms"])
    assert 59_000 <= retry_ms <= 60_000
    assert refused.headers["retry-after"] == "60"
    assert limits(refused, "requests")[:2] == (1, 0)
    assert metrics.RATE_LIMIT_REJECTIONS.labels("requests")._value.get() == before + 1
    assert len(p.client.requests) == 1  # the refused one never reached the sidecar
    # routes that do not generate are not limited
    assert (await p.request("GET", "/v1/models")).status_code == 200


async def create_raw(p: Portico, **body: Any) -> tuple[Reply, int]:
    """A create with these exact body bytes, and the input estimate they reserve (a token
    per 4 bytes, OpenAI's estimate)."""
    raw = jsonlib.dumps({"model": MODEL, **body}).encode()
    headers = {"content-type": "application/json"}
    answer = await p.request("POST", "/v1/responses", content=raw, headers=headers)
    return answer, len(raw) // 4


async def test_tokens_reserve_input_plus_max_output_then_reconcile() -> None:
    p = portico(reply("one", "two"), reply("x"), RATE_LIMIT_TPM=1000)
    # the input as estimated from the body's bytes; 100 reserved for the output
    first, estimate = await create_raw(p, input="three words here", max_output_tokens=100)
    assert first.status_code == 200, first.text
    assert limits(first, "tokens")[:2] == (1000, 1000 - estimate - 100)
    used = first.json()["usage"]["total_tokens"]  # the sidecar's count: 5 in, 2 out
    assert used == 7
    second, estimate = await create_raw(p, input="hi", max_output_tokens=10)
    _, remaining, _ = limits(second, "tokens")
    # the first's reservation came back but for what it used; the second reserved its own
    reserved = estimate + 10
    assert 1000 - used - reserved <= remaining <= 1000 - used - reserved + 30  # + refilled


async def test_without_max_output_tokens_the_reserve_is_bounded() -> None:
    p = portico(reply("a"), reply("b"), RATE_LIMIT_TPM=100_000)
    answer, estimate = await create_raw(p, input="hi there")
    # the rest of the scripted model's 4096-token context, at most DEFAULT_OUTPUT_RESERVE
    reserve = min(4096 - estimate, DEFAULT_OUTPUT_RESERVE)
    assert limits(answer, "tokens")[1] == 100_000 - estimate - reserve
    small = portico(reply("a"), RATE_LIMIT_TPM=50)
    assert limits(await small.create(input="hi there"), "tokens")[1] == 0  # the whole limit


async def test_a_request_larger_than_the_limit_is_refused_for_good() -> None:
    p = portico(RATE_LIMIT_TPM=50)
    refused = await p.create(input="hi", max_output_tokens=100)
    error = assert_error(refused, 429, "rate_limit_exceeded")
    assert error["type"] == "tokens" and "Request too large" in error["message"]
    assert refused.headers["x-should-retry"] == "false"
    assert "retry-after" not in refused.headers
    assert limits(refused, "tokens")[:2] == (50, 50)


async def test_a_request_that_fails_before_generating_gets_its_tokens_back() -> None:
    p = portico(reply("a"), RATE_LIMIT_TPM=1000)
    missing = await p.request(
        "POST", "/v1/responses", json={"model": "nope", "input": "hi", "max_output_tokens": 500}
    )
    assert_error(missing, 404, "model_not_found", "model")
    spent = 1000 - limits(missing, "tokens")[1]
    assert spent > 500  # the output budget and an estimate of the input
    after = await p.create(input="hi", max_output_tokens=500)
    assert after.status_code == 200
    assert limits(after, "tokens")[1] >= 1000 - spent - 5  # the 404's reservation came back


async def test_a_bad_body_is_a_400_not_a_count() -> None:
    p = portico(RATE_LIMIT_TPM=1000)
    bad = await p.request("POST", "/v1/responses", json={"model": 3})
    assert bad.status_code == 400
    assert p.client.requests == []


async def test_key_limits_override_the_defaults_per_key() -> None:
    p = portico(reply("a"), reply("b"), RATE_LIMIT_RPM=100)
    with_key(p, requests_per_minute=1, tokens_per_minute=None)
    assert limits(await p.create(input="hi"), "requests")[:2] == (1, 0)
    assert (await p.create(input="hi")).status_code == 429
    unlimited = portico(reply("a"), RATE_LIMIT_RPM=1)
    with_key(unlimited, requests_per_minute=0, tokens_per_minute=0)  # 0: no limit
    for _ in range(2):
        answer = await unlimited.create(input="hi")
        assert "x-ratelimit-limit-requests" not in answer.headers


async def test_each_key_has_its_own_buckets() -> None:
    p = portico(reply("a"), reply("b"), RATE_LIMIT_RPM=1)
    names = iter(["first", "second", "first"])

    async def set_key(request: Request) -> None:
        if request.path == "/v1/responses":
            request.ctx.api_key = SimpleNamespace(tenant="t", name=next(names))

    p.app.register_middleware(set_key, "request", priority=90)
    assert (await p.create(input="hi")).status_code == 200
    assert (await p.create(input="hi")).status_code == 200
    assert (await p.create(input="hi")).status_code == 429


async def test_streams_get_the_figures_for_their_rate_limits_event() -> None:
    p = portico(reply("a"), RATE_LIMIT_RPM=10, RATE_LIMIT_TPM=1000)

    @p.app.post("/test/figures", ctx_creates_response=True)
    async def figures(request: Request) -> HTTPResponse:
        return json(request.ctx.rate_limits)

    answer = await p.request(
        "POST", "/test/figures", json={"model": "scripted-model", "input": "a b"}
    )
    requests, tokens = answer.json()
    assert requests == {"name": "requests", "limit": 10, "remaining": 9, "reset_seconds": 6.0}
    assert tokens["name"] == "tokens" and tokens["limit"] == 1000
    assert tokens["remaining"] == 0 and 59 < tokens["reset_seconds"] <= 60


async def test_the_sse_stream_is_unchanged_and_valid() -> None:
    p = portico(reply("a", "b"), RATE_LIMIT_RPM=10)
    answer = await p.create(input="hi", stream=True)
    data = [line[6:] for line in answer.text.splitlines() if line.startswith("data: {")]
    last = jsonlib.loads(data[-1])
    assert last["type"] == "response.completed"
    spec.validate_response(last["response"])


async def test_an_unreachable_limit_store_lets_requests_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = portico(reply("a"), RATE_LIMIT_RPM=1)

    @p.app.before_server_start
    async def broken(app: Any) -> None:
        app.ctx.limiter = RedisLimiter("unix:///nonexistent/redis.sock")

    answer = await p.create(input="hi")
    assert answer.status_code == 200
    assert "x-ratelimit-limit-requests" not in answer.headers
    assert "unlimited" in caplog.text
