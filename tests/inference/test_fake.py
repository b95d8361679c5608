"""FakeEngine: the imitation the frontend tests lean on (tool calls, JSON, lengths, logprobs)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from inference.fake import REPLY, FakeEngine
from inference.protocol import (
    ChatMessage,
    Delta,
    Final,
    GenerateRequest,
    Role,
    Sampling,
    Started,
    Tool,
    ToolChoice,
)

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "detail": {"type": ["null", "boolean"]},
        "optional": {"type": "number"},
    },
    "required": ["city", "days", "unit", "detail"],
    "additionalProperties": False,
}
NESTED = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "owner": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "admin": {"type": "boolean"}},
            "required": ["id", "admin"],
        },
        "score": {"anyOf": [{"type": "number"}, {"type": "null"}]},
        "kind": {"const": "x"},
    },
    "required": ["name", "tags", "owner", "score", "kind"],
}
TOOLS = [
    Tool(name="get_weather", parameters=WEATHER),
    Tool(name="lookup", parameters=NESTED),
    Tool(name="no_params"),
]


def request(text: str = "hello", **kw: Any) -> GenerateRequest:
    return GenerateRequest(
        request_id="r", messages=[ChatMessage(role=Role.USER, content=text)], **kw
    )


async def run(engine: FakeEngine, req: GenerateRequest) -> tuple[Started, list[Delta], Final]:
    events = [e async for e in engine.generate(req)]
    started, *deltas, final = events
    assert isinstance(started, Started) and isinstance(final, Final)
    assert all(isinstance(d, Delta) for d in deltas)
    assert engine.running == 0
    return started, deltas, final  # type: ignore[return-value]


def calls_of(deltas: list[Delta]) -> dict[int, dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for d in deltas:
        assert d.text == ""
        for c in d.tool_calls:
            call = calls.setdefault(c.index, {"id": None, "name": None, "arguments": ""})
            if c.id is not None:
                assert call["id"] is None, "id sent twice"
                call["id"], call["name"] = c.id, c.name
            call["arguments"] += c.arguments
    return calls


@pytest.mark.parametrize(
    ("choice", "name", "expected"),
    [
        ("required", None, "get_weather"),
        ("function", "get_weather", "get_weather"),
        ("function", "lookup", "lookup"),
        ("function", "no_params", "no_params"),
    ],
)
async def test_forced_tool_call_satisfies_the_schema(
    choice: str, name: str | None, expected: str
) -> None:
    req = request(tools=TOOLS, tool_choice=choice, tool_name=name)
    _, deltas, final = await run(FakeEngine(), req)
    calls = calls_of(deltas)
    assert list(calls) == [0]
    assert calls[0]["name"] == expected and calls[0]["id"]
    args = json.loads(calls[0]["arguments"])
    assert isinstance(args, dict)
    schema = next(t for t in TOOLS if t.name == expected).parameters
    assert set(schema.get("required", [])) <= set(args)
    jsonschema.validate(args, schema)
    assert final.finish_reason == "tool_calls"


async def test_auto_calls_a_tool_only_when_named() -> None:
    _, deltas, final = await run(FakeEngine(), request("what is up", tools=TOOLS))
    assert not calls_of([d for d in deltas if d.tool_calls]) and final.finish_reason == "stop"
    _, deltas, final = await run(FakeEngine(), request("please lookup x", tools=TOOLS))
    assert calls_of(deltas)[0]["name"] == "lookup" and final.finish_reason == "tool_calls"
    req = request("please lookup x", tools=TOOLS, tool_choice=ToolChoice.NONE)
    _, deltas, final = await run(FakeEngine(), req)
    assert "".join(d.text for d in deltas) == " ".join(REPLY) and final.finish_reason == "stop"


@pytest.mark.parametrize(
    "schema", [WEATHER, NESTED, {"type": "array", "items": {"type": "integer"}, "minItems": 3}]
)
async def test_json_schema_output_matches(schema: dict[str, Any]) -> None:
    _, deltas, final = await run(FakeEngine(), request(json_schema=schema))
    doc = json.loads("".join(d.text for d in deltas))
    jsonschema.validate(doc, schema)
    assert final.finish_reason == "stop"
    assert final.usage.completion_tokens == len(deltas)


async def test_json_object_output_is_an_object() -> None:
    _, deltas, _ = await run(FakeEngine(), request(json_object=True))
    assert isinstance(json.loads("".join(d.text for d in deltas)), dict)


async def test_json_schema_with_refs() -> None:
    schema = {
        "type": "object",
        "properties": {"item": {"$ref": "#/$defs/Item"}},
        "required": ["item"],
        "$defs": {
            "Item": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
        },
    }
    _, deltas, _ = await run(FakeEngine(), request(json_schema=schema))
    jsonschema.validate(json.loads("".join(d.text for d in deltas)), schema)


@pytest.mark.parametrize("max_tokens", [1, 3, len(REPLY) - 1])
async def test_max_tokens_below_the_reply_gives_length(max_tokens: int) -> None:
    req = request(sampling=Sampling(max_tokens=max_tokens))
    started, deltas, final = await run(FakeEngine(), req)
    assert started.max_tokens == max_tokens
    assert final.finish_reason == "length"
    assert final.usage.completion_tokens == max_tokens
    assert "".join(d.text for d in deltas) == " ".join(REPLY[:max_tokens])


async def test_max_tokens_equal_to_the_reply_gives_stop() -> None:
    _, _, final = await run(FakeEngine(), request(sampling=Sampling(max_tokens=len(REPLY))))
    assert final.finish_reason == "stop"
    _, _, final = await run(FakeEngine(reply_tokens=5), request(sampling=Sampling(max_tokens=6)))
    assert (final.finish_reason, final.usage.completion_tokens) == ("stop", 5)


async def test_truncated_tool_call_gives_length() -> None:
    req = request(
        tools=TOOLS,
        tool_choice=ToolChoice.FUNCTION,
        tool_name="get_weather",
        sampling=Sampling(max_tokens=2),
    )
    _, deltas, final = await run(FakeEngine(), req)
    assert final.finish_reason == "length" and final.usage.completion_tokens == 2
    assert len(calls_of(deltas)[0]["arguments"]) == 8  # two 4-character "tokens"


async def test_tool_call_that_exactly_fits_max_tokens_is_complete() -> None:
    base = request(tools=TOOLS, tool_choice=ToolChoice.FUNCTION, tool_name="get_weather")
    _, deltas, _ = await run(FakeEngine(), base)
    pieces = sum(1 for d in deltas for c in d.tool_calls if c.arguments)
    exact = request(
        tools=TOOLS,
        tool_choice=ToolChoice.FUNCTION,
        tool_name="get_weather",
        sampling=Sampling(max_tokens=pieces),
    )
    _, deltas, final = await run(FakeEngine(), exact)
    json.loads(calls_of(deltas)[0]["arguments"])  # the arguments are whole
    assert final.finish_reason == "tool_calls"


async def test_no_logprobs_unless_asked() -> None:
    _, deltas, _ = await run(FakeEngine(), request())
    assert all(d.logprobs == [] for d in deltas)


@pytest.mark.parametrize("top", [0, 1, 3, 20])
async def test_logprobs_with_top_n(top: int) -> None:
    engine = FakeEngine(tokens_per_delta=3)
    _, deltas, _ = await run(engine, request(sampling=Sampling(top_logprobs=top)))
    for d in deltas:
        assert d.logprobs, "every text delta carries logprobs"
        assert "".join(lp.token for lp in d.logprobs) == d.text
        for lp in d.logprobs:
            assert len(lp.top_logprobs) == top
            assert bytes(lp.bytes) == lp.token.encode()
            if top:
                assert lp.top_logprobs[0].token == lp.token
                ranked = [t.logprob for t in lp.top_logprobs]
                assert ranked == sorted(ranked, reverse=True)


async def test_reasoning_comes_first_and_is_counted() -> None:
    _, deltas, final = await run(FakeEngine(reasoning=True), request())
    assert deltas[0].reasoning and not deltas[0].text
    assert all(not d.reasoning for d in deltas[1:])
    assert final.usage.reasoning_tokens == 2
    assert final.usage.completion_tokens == len(REPLY) + 2


async def test_reasoning_in_the_prompt_counts_as_prompt_tokens() -> None:
    turn = [
        ChatMessage(role=Role.USER, content="hi there"),
        ChatMessage(role=Role.ASSISTANT, content="hello", reasoning="a greeting"),
    ]
    started, _, final = await run(FakeEngine(), GenerateRequest(request_id="r", messages=turn))
    assert started.prompt_tokens == final.usage.prompt_tokens == 2 + 2 + 1 + 2 + 2
