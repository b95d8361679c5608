"""`POST /v1/responses/input_tokens` in-process (routes/input_tokens.py): the prompt a create
request would send, counted by the sidecar (the scripted one counts words)."""

from __future__ import annotations

from typing import Any

from inference.protocol import CountTokens, Role, TokenCount
from tests import spec
from tests.frontend.routes.test_responses_routes import Portico, Reply, assert_error, portico
from tests.frontend.scripted import MODEL, reply

TOOL = {"type": "function", "name": "add", "parameters": {"type": "object", "properties": {}}}


def counting(p: Portico) -> list[CountTokens]:
    """Record what the route asks the sidecar to count."""
    asked: list[CountTokens] = []
    count = p.client.count_tokens

    async def record(request: CountTokens) -> TokenCount:
        asked.append(request)
        return await count(request)

    p.client.count_tokens = record  # type: ignore[method-assign]
    return asked


async def count(p: Portico, **body: Any) -> Reply:
    return await p.request("POST", "/v1/responses/input_tokens", json=body)


def tokens(answer: Reply) -> int:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    spec.validate(body, "TokenCountsResource")
    assert body["object"] == "response.input_tokens"
    return int(body["input_tokens"])


async def test_the_prompt_is_counted_with_instructions_and_tools() -> None:
    p = portico()
    asked = counting(p)
    answer = await count(
        p, model=MODEL, input="three words here", instructions="Be brief.", tools=[TOOL]
    )
    assert tokens(answer) == 5  # the scripted sidecar counts words
    [request] = asked
    assert [(m.role, m.content) for m in request.messages] == [
        (Role.SYSTEM, "Be brief."),
        (Role.USER, "three words here"),
    ]
    assert [t.name for t in request.tools] == ["add"]
    assert p.client.requests == []  # nothing was generated


async def test_the_model_is_optional_and_tool_choice_none_leaves_tools_out() -> None:
    p = portico()
    asked = counting(p)
    assert tokens(await count(p, input="hi", tools=[TOOL], tool_choice="none")) == 1
    assert asked[0].tools == []


async def test_a_previous_response_brings_its_conversation() -> None:
    p = portico(reply("Paris is the capital."))
    first = (await p.create(input="Capital of France?")).json()
    asked = counting(p)
    total = tokens(await count(p, input="And Spain?", previous_response_id=first["id"]))
    assert total == 3 + 4 + 2
    assert [m.content for m in asked[0].messages] == [
        "Capital of France?",
        "Paris is the capital.",
        "And Spain?",
    ]


async def test_refusals_name_the_field() -> None:
    p = portico()
    assert_error(await count(p, model="gpt-9", input="x"), 404, "model_not_found", "model")
    assert_error(
        await count(p, input="x", previous_response_id="resp_nope"),
        404,
        "previous_response_not_found",
        "previous_response_id",
    )
    assert_error(await count(p, input="x", temperature=1), 400, "unknown_parameter", "temperature")
    assert_error(
        await count(p, input="x", personality="cheerful"),
        400,
        "unsupported_parameter",
        "personality",
    )
    assert_error(
        await count(p, input="x", truncation="auto"), 400, "unsupported_parameter", "truncation"
    )
    p.client.ready = False
    assert_error(await count(p, input="x"), 503, "service_unavailable")
