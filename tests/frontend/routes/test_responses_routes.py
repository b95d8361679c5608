"""`/v1/responses` in-process: the real app (create_app) through Sanic's ASGI test client,
with the scripted sidecar client in place of the socket. No server, no subprocess.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from frontend.application import create_app
from frontend.client.errors import SidecarUnavailable
from frontend.client.shards import ShardedSidecarClient
from frontend.config import PorticoConfig
from frontend.run import LOST, timeout_message
from frontend.store import MemoryStore
from inference.protocol import Delta, ErrorCode, FinishReason, RequestError, Role
from tests import spec
from tests.frontend.scripted import (
    MODEL,
    Hang,
    Script,
    ScriptedClient,
    reply,
)
from tests.spec.extension_events import standard_events

_names = itertools.count()


class KeptStore(MemoryStore):
    """The test client starts and stops the app around every request; this store outlives
    that (close() is counted, not honoured), so a GET can find what a POST stored."""

    def __init__(self) -> None:
        super().__init__(max_entries=100, ttl=3600)
        self.closes = 0

    async def close(self) -> None:
        self.closes += 1


@dataclass
class Reply:
    """What came back (sanic-testing's response makes `json` a property; this keeps httpx's
    method, and a type)."""

    status_code: int
    headers: httpx.Headers
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Portico:
    app: Sanic
    client: ScriptedClient
    store: KeptStore = field(default_factory=KeptStore)

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        _, response = await self.app.asgi_client.request(method, path, **kwargs)
        assert response is not None
        return Reply(response.status_code, response.headers, response.text)

    async def create(self, **body: Any) -> Reply:
        return await self.request("POST", "/v1/responses", json={"model": MODEL, **body})


def portico(*scripts: Script, **config: Any) -> Portico:
    client = ScriptedClient(scripts)
    app = create_app(PorticoConfig(**config), name=f"routes_{next(_names)}", client=client)
    setup = Portico(app, client)

    @app.before_server_start
    async def keep_store(app: Sanic) -> None:  # after create_app's listener
        app.ctx.store = setup.store

    return setup


def assert_error(
    reply: Reply, status: int, code: str | None, param: str | None = None
) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    spec.validate_error(body)
    error = body["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert error["message"]
    return error


@dataclass
class Stream:
    events: list[dict[str, Any]]  # OpenAI's events (Portico's extension events left out)
    names: list[str]
    done: bool
    every: list[dict[str, Any]] = field(default_factory=list)  # with the extension events


def parse_sse(text: str) -> Stream:
    events: list[dict[str, Any]] = []
    names: list[str] = []
    done = False
    for frame in text.split("\n\n"):
        if not frame or frame.startswith(":"):
            continue
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        if lines.get("data") == "[DONE]":
            done = True
            continue
        assert not done, "an event after [DONE]"
        names.append(lines["event"])
        events.append(json.loads(lines["data"]))
    standard = standard_events(events)  # each extension event checked, then left out
    ids = {id(e) for e in standard}
    kept = [name for name, e in zip(names, events, strict=True) if id(e) in ids]
    return Stream([dict(e) for e in standard], kept, done, events)


def stream_of(reply: Reply) -> Stream:
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/event-stream")
    stream = parse_sse(reply.text)
    spec.validate_event_sequence(stream.events)
    assert stream.names == [e["type"] for e in stream.events]
    return stream


# --- create, retrieve, delete ------------------------------------------------------------


async def test_create_as_json_then_retrieve_and_delete() -> None:
    p = portico(reply("Hello", " there"))
    created = await p.create(input="Hi!", metadata={"k": "v"})
    assert created.status_code == 200, created.text
    body = created.json()
    spec.validate_response(body)
    assert body["status"] == "completed"
    assert body["output"][0]["content"][0]["text"] == "Hello there"
    assert body["metadata"] == {"k": "v"}
    assert body["model"] == MODEL
    [sent] = p.client.requests
    assert sent.request_id == body["id"]
    assert [(m.role, m.content) for m in sent.messages] == [(Role.USER, "Hi!")]
    assert p.client.last.closes == 1

    fetched = await p.request("GET", f"/v1/responses/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body

    deleted = await p.request("DELETE", f"/v1/responses/{body['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": body["id"], "object": "response", "deleted": True}
    gone = await p.request("GET", f"/v1/responses/{body['id']}")
    assert_error(gone, 404, "not_found", "response_id")
    again = await p.request("DELETE", f"/v1/responses/{body['id']}")
    assert_error(again, 404, "not_found", "response_id")


async def test_store_false_is_not_kept() -> None:
    p = portico()
    body = (await p.create(input="hi", store=False)).json()
    assert body["store"] is False
    assert_error(
        await p.request("GET", f"/v1/responses/{body['id']}"), 404, "not_found", "response_id"
    )
    assert len(p.store) == 0


async def test_create_as_a_stream() -> None:
    p = portico(reply("Hel", "lo", reasoning=["Think."]))
    stream = stream_of(await p.create(input="Hi!", stream=True))
    assert stream.done  # native mode ends with [DONE]
    final = stream.events[-1]
    assert final["type"] == "response.completed"
    assert [item["type"] for item in final["response"]["output"]] == ["reasoning", "message"]
    assert final["response"]["output"][1]["content"][0]["text"] == "Hello"
    fetched = await p.request("GET", f"/v1/responses/{final['response']['id']}")
    assert fetched.json() == final["response"]


@pytest.mark.parametrize("compat", [False, True])
async def test_prompt_cache_key_is_accepted_and_echoed(compat: bool) -> None:
    """OpenAI's field in both modes (the migration guide's "prompt caching via
    prompt_cache_key"): echoed on the JSON answer, every stream snapshot and the stored one."""
    p = portico(reply("a"), reply("b"), COMPATIBILITY_MODE=compat)
    body = (await p.create(input="hi", prompt_cache_key="thread-7")).json()
    spec.validate_response(body)
    assert body["prompt_cache_key"] == "thread-7"
    stream = stream_of(await p.create(input="hi", prompt_cache_key="thread-8", stream=True))
    snapshots = [e["response"] for e in stream.events if "response" in e]
    assert snapshots and {r["prompt_cache_key"] for r in snapshots} == {"thread-8"}
    for response in (body, snapshots[-1]):
        stored = await p.request("GET", f"/v1/responses/{response['id']}")
        assert stored.json()["prompt_cache_key"] == response["prompt_cache_key"]


async def test_the_body_not_accept_decides_whether_to_stream() -> None:
    """As at OpenAI, `stream` in the body picks SSE or JSON; the migration guide's
    `Accept: text/event-stream` is welcome and changes nothing, and an error before the stream
    began is JSON whatever the client accepts."""
    sse = {"Accept": "text/event-stream"}
    p = portico(reply("a"), reply("b"), reply("c"))
    body = {"model": MODEL, "input": "hi"}
    plain = await p.request("POST", "/v1/responses", json=body, headers=sse)
    assert plain.headers["content-type"].startswith("application/json")
    spec.validate_response(plain.json())
    asked = {"Accept": "application/json"}
    streamed = await p.request(
        "POST", "/v1/responses", json={**body, "stream": True}, headers=asked
    )
    assert stream_of(streamed).names[-1] == "response.completed"
    streamed = await p.request("POST", "/v1/responses", json={**body, "stream": True}, headers=sse)
    assert stream_of(streamed).names[-1] == "response.completed"
    wrong = {**body, "model": "nope", "stream": True}
    refused = await p.request("POST", "/v1/responses", json=wrong, headers=sse)
    assert refused.headers["content-type"].startswith("application/json")
    assert_error(refused, 404, "model_not_found", "model")


async def test_compatibility_mode_streams_without_done() -> None:
    p = portico(COMPATIBILITY_MODE=True)
    stream = stream_of(await p.create(input="Hi!", stream=True))
    assert not stream.done
    assert stream.events[-1]["type"] == "response.completed"


async def test_previous_response_id_continues_the_conversation() -> None:
    p = portico(reply("Paris."), reply("About 2 million."))
    first = (await p.create(input="Capital of France?", instructions="Be brief.")).json()
    second = await p.create(input="Population?", previous_response_id=first["id"])
    assert second.status_code == 200, second.text
    assert second.json()["previous_response_id"] == first["id"]
    messages = p.client.requests[1].messages
    assert [(m.role, m.content) for m in messages] == [
        (Role.USER, "Capital of France?"),  # instructions are not carried over
        (Role.ASSISTANT, "Paris."),
        (Role.USER, "Population?"),
    ]


# --- refusals ----------------------------------------------------------------------------


async def test_an_unknown_previous_response_id_is_404() -> None:
    p = portico()
    answer = await p.create(input="hi", previous_response_id="resp_nope")
    error = assert_error(answer, 404, "previous_response_not_found", "previous_response_id")
    assert "resp_nope" in error["message"]
    assert p.client.requests == []


async def test_a_sidecar_that_is_not_ready_is_503_with_retry_after() -> None:
    p = portico()
    p.client.ready = False
    for stream in (False, True):
        answer = await p.create(input="hi", stream=stream)
        assert_error(answer, 503, "service_unavailable")
        assert answer.headers["Retry-After"] == "5"
    p.client.ready, p.client.handshake = True, None
    assert_error(await p.create(input="hi"), 503, "service_unavailable")
    assert p.client.requests == []


async def test_an_unknown_model_is_404() -> None:
    p = portico()
    answer = await p.request("POST", "/v1/responses", json={"model": "gpt-9", "input": "hi"})
    error = assert_error(answer, 404, "model_not_found", "model")
    assert "gpt-9" in error["message"]
    assert p.client.requests == []


async def test_the_model_alias_is_served() -> None:
    p = portico(SERVED_MODEL_NAME="alias")
    answer = await p.request("POST", "/v1/responses", json={"model": "alias", "input": "hi"})
    assert answer.status_code == 200
    assert answer.json()["model"] == "alias"


async def test_the_sidecar_refusing_is_its_error() -> None:
    refusal = RequestError(
        ErrorCode.CONTEXT_LENGTH_EXCEEDED, "The input is 5000 tokens; the limit is 4096.", "input"
    )
    p = portico(Script(refuse=refusal), Script(refuse=refusal))
    for stream in (False, True):  # refused before any event: an error, even for a stream
        answer = await p.create(input="long " * 5000, stream=stream)
        error = assert_error(answer, 400, "context_length_exceeded", "input")
        assert error["message"] == refusal.message
        assert error["type"] == "invalid_request_error"
    assert len(p.store) == 0


async def test_an_unreachable_sidecar_at_start_is_503() -> None:
    p = portico(Script(refuse=SidecarUnavailable("connect failed")))
    answer = await p.create(input="hi")
    assert_error(answer, 503, "service_unavailable")
    assert answer.headers["Retry-After"] == "5"


async def test_a_field_it_cannot_honour_is_400_before_the_sidecar() -> None:
    p = portico()
    answer = await p.create(input="hi", truncation="auto")
    assert_error(answer, 400, "unsupported_parameter", "truncation")
    assert p.client.requests == []


# --- outcomes ----------------------------------------------------------------------------


async def test_the_generation_timeout_is_a_failed_response_for_json() -> None:
    p = portico(Script([Delta(text="slow"), Hang()]), GENERATION_TIMEOUT=0.05)
    answer = await p.create(input="hi")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    spec.validate_response(body)
    assert body["status"] == "failed"
    assert body["error"]["message"] == timeout_message(0.05)
    assert p.client.last.aborts >= 1
    stored = await p.request("GET", f"/v1/responses/{body['id']}")
    assert stored.json()["status"] == "failed"


async def test_the_generation_timeout_fails_a_stream() -> None:
    p = portico(Script([Delta(text="slow"), Hang()]), GENERATION_TIMEOUT=0.05)
    stream = stream_of(await p.create(input="hi", stream=True))
    assert stream.events[-1]["type"] == "response.failed"
    assert stream.events[-1]["response"]["error"]["message"] == timeout_message(0.05)
    assert stream.done


async def test_an_engine_error_is_500_for_json_and_failed_in_a_stream() -> None:
    error_reply = reply("x", finish=FinishReason.ERROR, error="engine exploded")
    p = portico(error_reply, reply("x", finish=FinishReason.ERROR, error="engine exploded"))
    answer = await p.create(input="hi")
    error = assert_error(answer, 500, "server_error")
    assert error["message"] == "engine exploded"
    stream = stream_of(await p.create(input="hi", stream=True))
    assert stream.events[-1]["type"] == "response.failed"
    assert stream.events[-1]["response"]["error"]["message"] == "engine exploded"


async def test_a_lost_sidecar_is_503_for_json_and_failed_in_a_stream() -> None:
    def lost() -> Script:
        return Script([Delta(text="par"), SidecarUnavailable("connection closed")])

    p = portico(lost(), lost())
    answer = await p.create(input="hi")
    error = assert_error(answer, 503, "service_unavailable")
    assert error["message"] == LOST
    assert answer.headers["Retry-After"] == "5"
    stream = stream_of(await p.create(input="hi", stream=True))
    assert stream.events[-1]["type"] == "response.failed"
    assert stream.events[-1]["response"]["error"]["message"] == LOST


async def test_an_unexpected_failure_mid_stream_is_an_error_event_then_failed() -> None:
    p = portico(Script([Delta(text="a"), ZeroDivisionError("bug")]))
    stream = stream_of(await p.create(input="hi", stream=True))
    types = [e["type"] for e in stream.events]
    assert types[-1] == "response.failed"
    assert types.count("error") == 1
    assert stream.done


async def test_length_is_incomplete_over_the_route() -> None:
    p = portico(reply("cut", finish=FinishReason.LENGTH))
    body = (await p.create(input="hi", max_output_tokens=1)).json()
    spec.validate_response(body)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert p.client.requests[0].sampling.max_tokens == 1


# --- the app factory ---------------------------------------------------------------------


async def test_the_app_starts_and_stops_the_client_it_was_given() -> None:
    p = portico()
    await p.create(input="hi")
    assert p.app.ctx.sidecar is p.client
    assert (p.client.starts, p.client.stops) == (1, 1)  # one server start and stop a request
    assert p.store.closes == 1


async def test_without_a_client_the_app_opens_the_socket_client(tmp_path: Path) -> None:
    socket = tmp_path / "absent.sock"
    app = create_app(PorticoConfig(SIDECAR_SOCKET=str(socket)), name=f"routes_{next(_names)}")
    _, answer = await app.asgi_client.post("/v1/responses", json={"model": MODEL, "input": "hi"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert isinstance(app.ctx.sidecar, ShardedSidecarClient)
    assert app.ctx.sidecar.path == str(socket)
    assert [shard.path for shard in app.ctx.sidecar.shards] == [str(socket)]
