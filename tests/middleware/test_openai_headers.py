"""middleware/openai_headers.py: OpenAI's headers on every response, JSON, SSE and errors,
in-process (the scripted sidecar) and over real HTTP (the fake stack)."""

from __future__ import annotations

import httpx

from tests import spec
from tests.frontend.routes.test_responses_routes import portico, stream_of
from tests.frontend.scripted import Pause, Script, reply
from tests.sse import post_stream
from tests.stack import Stack


def openai_headers(headers: httpx.Headers) -> int:
    """Checks the version header; returns the processing milliseconds."""
    assert headers["openai-version"] == "2020-10-01"
    text = headers["openai-processing-ms"]
    assert text.isdigit(), text
    return int(text)


async def test_on_json_sse_and_errors_with_an_organization() -> None:
    p = portico(reply("Hi"), reply("Hel", "lo"), OPENAI_ORGANIZATION="org-portico")
    answers = [
        await p.create(input="Hi!"),
        await p.request("POST", "/v1/responses", json={"model": "nope", "input": "x"}),
        await p.request("GET", "/v1/responses/resp_missing"),
        await p.request("GET", "/no/such/route"),
        await p.request("PUT", "/v1/responses"),
        await p.request("GET", "/health"),
    ]
    assert [a.status_code for a in answers] == [200, 404, 404, 404, 405, 200]
    for answer in answers:
        openai_headers(answer.headers)
        assert answer.headers["openai-organization"] == "org-portico"
        assert answer.headers["x-request-id"]  # request_id.py's, untouched
    for answer in answers[1:5]:
        spec.validate_error(answer.json())
    streamed = await p.create(input="Hi!", stream=True)
    stream_of(streamed)
    openai_headers(streamed.headers)
    assert streamed.headers["openai-organization"] == "org-portico"


async def test_no_organization_header_when_unset() -> None:
    p = portico()
    answer = await p.create(input="Hi!")
    openai_headers(answer.headers)
    assert "openai-organization" not in answer.headers


async def test_processing_ms_counts_the_wait_for_headers() -> None:
    slow = Script([Pause(0.3), *reply("late").steps])
    p = portico(slow, Script([Pause(0.3), *reply("late").steps]))
    waited = openai_headers((await p.create(input="Hi!")).headers)
    assert 250 <= waited < 30_000
    # a stream's headers leave before its events: its time excludes the generation
    streamed = await p.create(input="Hi!", stream=True)
    assert openai_headers(streamed.headers) < waited


def test_over_real_http(fake_stack: Stack) -> None:
    answer = httpx.post(
        fake_stack.url("/v1/responses"), json={"model": "fake-model", "input": "hi"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    assert openai_headers(answer.headers) < 30_000
    stream = post_stream(
        fake_stack.url("/v1/responses"), {"model": "fake-model", "input": "hi", "stream": True}
    )
    assert stream.status == 200
    spec.validate_event_sequence(stream.events)
    openai_headers(stream.headers)
    missing = httpx.get(fake_stack.url("/v1/responses/resp_nope"), timeout=60)
    assert missing.status_code == 404
    openai_headers(missing.headers)
