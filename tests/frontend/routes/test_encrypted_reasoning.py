"""include=reasoning.encrypted_content in-process: the route seals for the request's tenant and
opens what clients send back, in native and compatibility mode."""

from __future__ import annotations

from typing import Any

import pytest
from sanic import Request

from frontend.sealing import new_key
from inference.protocol import Role
from tests import spec
from tests.frontend.routes.test_responses_routes import (
    Portico,
    assert_error,
    portico,
    stream_of,
)
from tests.frontend.scripted import make_handshake, reply

INCLUDE = ["reasoning.encrypted_content"]


def keyed(*texts: str, compat: bool = False, keys: str | None = None) -> Portico:
    """A Portico with reasoning keys whose sidecar runs a reasoning parser, and a tenant
    taken from the X-Test-Tenant header (standing in for authentication)."""
    scripts = [reply(f"Answer {t}.", reasoning=[f"Thinking {t}"]) for t in texts]
    p = portico(*scripts, REASONING_KEYS=keys or new_key(), COMPATIBILITY_MODE=compat)
    p.client.handshake = make_handshake(reasoning_parser="fake")

    @p.app.on_request
    async def tenant(request: Request) -> None:
        request.ctx.tenant = request.headers.get("x-test-tenant", "")

    return p


def turn_two(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The second turn's input as a stateless client sends it: the reasoning item echoed
    with its summary and encrypted_content only, the answer, then a new question."""
    echoed = {k: item[k] for k in ("type", "id", "summary", "encrypted_content")}
    return [
        {"role": "user", "content": "one"},
        echoed,
        {"type": "message", "role": "assistant", "content": "Answer one."},
        {"role": "user", "content": "two"},
    ]


@pytest.mark.parametrize("compat", [False, True])
async def test_sealed_reasoning_comes_back_into_the_prompt(compat: bool) -> None:
    p = keyed("one", "two", compat=compat)
    first = await p.create(input="one", include=INCLUDE, store=False)
    assert first.status_code == 200, first.text
    body = first.json()
    spec.validate_response(body)
    item = body["output"][0]
    assert item["type"] == "reasoning"
    assert item["encrypted_content"] and "Thinking" not in item["encrypted_content"]

    second = await p.create(input=turn_two(item), include=INCLUDE, store=False)
    assert second.status_code == 200, second.text
    assistant = p.client.requests[1].messages[1]
    assert (assistant.role, assistant.content, assistant.reasoning) == (
        Role.ASSISTANT,
        "Answer one.",
        "Thinking one",
    )


async def test_a_stream_seals_on_output_item_done() -> None:
    p = keyed("one")
    stream = stream_of(await p.create(input="one", include=INCLUDE, stream=True, store=False))
    for event in stream.events:
        spec.validate_stream_event(event)
    added = next(e for e in stream.events if e["type"] == "response.output_item.added")
    done = next(e for e in stream.events if e["type"] == "response.output_item.done")
    assert "encrypted_content" not in added["item"]
    assert done["item"]["encrypted_content"]
    assert stream.events[-1]["response"]["output"][0] == done["item"]


async def test_without_the_include_nothing_is_sealed() -> None:
    p = keyed("one")
    body = (await p.create(input="one")).json()
    assert "encrypted_content" not in body["output"][0]


async def test_another_tenants_token_is_refused() -> None:
    p = keyed("one", "two")
    headers = {"x-test-tenant": "tenant-a"}
    first = await p.request(
        "POST",
        "/v1/responses",
        json={"model": "scripted-model", "input": "one", "include": INCLUDE, "store": False},
        headers=headers,
    )
    item = first.json()["output"][0]
    stolen = await p.create(input=turn_two(item))  # tenant ""
    assert_error(stolen, 400, "invalid_encrypted_content", "input[1].encrypted_content")
    own = await p.request(
        "POST",
        "/v1/responses",
        json={"model": "scripted-model", "input": turn_two(item)},
        headers=headers,
    )
    assert own.status_code == 200, own.text


async def test_a_tampered_token_is_refused_and_nothing_is_generated() -> None:
    p = keyed("one", "two")
    item = (await p.create(input="one", include=INCLUDE, store=False)).json()["output"][0]
    token = item["encrypted_content"]
    item["encrypted_content"] = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    reply_ = await p.create(input=turn_two(item))
    assert_error(reply_, 400, "invalid_encrypted_content", "input[1].encrypted_content")
    assert len(p.client.requests) == 1


async def test_a_token_from_a_retired_key_is_refused_one_from_a_second_key_opens() -> None:
    old, new = new_key(), new_key()
    before = keyed("one", keys=old)
    item = (await before.create(input="one", include=INCLUDE)).json()["output"][0]
    rotated = keyed("two", keys=f"{new},{old}")
    assert (await rotated.create(input=turn_two(item))).status_code == 200
    retired = keyed("two", keys=new)
    refused = await retired.create(input=turn_two(item))
    error = assert_error(refused, 400, "invalid_encrypted_content", "input[1].encrypted_content")
    assert "key this server does not hold" in error["message"]


async def test_without_keys_the_include_and_encrypted_input_name_the_setting() -> None:
    p = portico(REASONING_KEYS="")
    p.client.handshake = make_handshake(reasoning_parser="fake")
    refused = await p.create(input="hi", include=INCLUDE)
    error = assert_error(refused, 400, "unsupported_parameter", "include[0]")
    assert "PORTICO_REASONING_KEYS" in error["message"]
    item = {"type": "reasoning", "summary": [], "encrypted_content": "abc"}
    refused = await p.create(input=[item, {"role": "user", "content": "hi"}])
    error = assert_error(refused, 400, "invalid_encrypted_content", "input[0].encrypted_content")
    assert "PORTICO_REASONING_KEYS" in error["message"]


async def test_without_a_reasoning_parser_the_include_is_a_no_op_even_without_keys() -> None:
    p = portico(REASONING_KEYS="")
    body = (await p.create(input="hi", include=INCLUDE, store=False)).json()
    assert body["status"] == "completed"
