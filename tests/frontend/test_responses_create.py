"""POST /v1/responses against the fake sidecar: the SDK and raw HTTP, checked against the spec."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests import spec
from tests.sdk import first_part, output_item
from tests.sse import post_stream
from tests.stack import Stack

MODEL = "fake-model"
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    },
}


def test_create_returns_a_valid_completed_response(fake_stack: Stack) -> None:
    response = fake_stack.openai().responses.create(model=MODEL, input="Say hello")
    body = response.model_dump(mode="json", exclude_unset=True, by_alias=True)
    spec.validate_response(body)
    assert response.status == "completed"
    assert (
        response.output_text
        == "Hello from the fake engine . It answers every prompt with these words"
    )
    assert response.usage is not None
    assert response.usage.output_tokens == 13
    assert response.usage.input_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + 13
    assert response.usage.input_tokens_details.cached_tokens >= 0
    assert response.id.startswith("resp_")
    assert output_item(response).id.startswith("msg_")


def test_raw_http_body_matches_the_spec(fake_stack: Stack) -> None:
    reply = httpx.post(
        fake_stack.url("/v1/responses"),
        json={"model": MODEL, "input": "hi", "metadata": {"k": "v"}},
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.headers["x-request-id"]
    body = reply.json()
    spec.validate_response(body)
    assert body["metadata"] == {"k": "v"}
    assert "usage" in body and "user" not in body


def test_max_output_tokens_gives_incomplete(fake_stack: Stack) -> None:
    response = fake_stack.openai().responses.create(model=MODEL, input="x", max_output_tokens=3)
    spec.validate_response(response.model_dump(mode="json", exclude_unset=True, by_alias=True))
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "Hello from the"
    assert response.output[0].status == "incomplete"  # type: ignore[union-attr]


def test_stream_events_follow_the_openai_sequence(fake_stack: Stack) -> None:
    stream = post_stream(
        fake_stack.url("/v1/responses"), {"model": MODEL, "input": "hi", "stream": True}
    )
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    spec.validate_event_sequence(stream.events)
    types = [e["type"] for e in stream.events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[4:-4] == ["response.output_text.delta"] * 13
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in stream.events] == list(range(len(types)))
    assert stream.names == types  # every `event:` line names its event
    assert stream.done  # native mode ends with [DONE]
    item_ids = {e["item_id"] for e in stream.events if "item_id" in e}
    assert len(item_ids) == 1
    assert " ERROR" not in fake_stack.log()  # e.g. Sanic's "already been responded to"


def test_sdk_stream_and_stream_helper(fake_stack: Stack) -> None:
    client = fake_stack.openai()
    events = list(client.responses.create(model=MODEL, input="hi", stream=True))
    spec.validate_event_sequence(
        [e.model_dump(mode="json", exclude_unset=True, by_alias=True) for e in events]
    )
    assert events[-1].type == "response.completed"
    with client.responses.stream(model=MODEL, input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text
    assert final.status == "completed"


def test_logprobs_with_include(fake_stack: Stack) -> None:
    response = fake_stack.openai().responses.create(
        model=MODEL,
        input="hi",
        top_logprobs=2,
        include=["message.output_text.logprobs"],
        max_output_tokens=4,
    )
    spec.validate_response(response.model_dump(mode="json", exclude_unset=True, by_alias=True))
    part = first_part(response)
    assert [lp.token for lp in part.logprobs] == ["Hello", " from", " the", " fake"]
    assert all(len(lp.top_logprobs) == 2 for lp in part.logprobs)
    stream = post_stream(
        fake_stack.url("/v1/responses"),
        {
            "model": MODEL,
            "input": "hi",
            "stream": True,
            "top_logprobs": 1,
            "include": ["message.output_text.logprobs"],
            "max_output_tokens": 2,
        },
    )
    spec.validate_event_sequence(stream.events)
    deltas = [e for e in stream.events if e["type"] == "response.output_text.delta"]
    assert [len(d["logprobs"]) for d in deltas] == [1, 1]


def test_no_logprobs_without_include(fake_stack: Stack) -> None:
    response = fake_stack.openai().responses.create(model=MODEL, input="hi", top_logprobs=2)
    assert first_part(response).logprobs == []


@pytest.mark.parametrize("choice", ["required", {"type": "function", "name": "get_weather"}])
def test_forced_tool_call(fake_stack: Stack, choice: Any) -> None:
    response = fake_stack.openai().responses.create(
        model=MODEL,
        input="weather?",
        tools=[WEATHER],
        tool_choice=choice,
    )
    spec.validate_response(response.model_dump(mode="json", exclude_unset=True, by_alias=True))
    call = output_item(response)
    assert call.type == "function_call"
    assert call.name == "get_weather"
    assert call.call_id and call.id.startswith("fc_")
    arguments = json.loads(call.arguments)
    assert set(arguments) == {"city", "days"}


def test_tool_call_stream_events(fake_stack: Stack) -> None:
    stream = post_stream(
        fake_stack.url("/v1/responses"),
        {
            "model": MODEL,
            "input": "weather?",
            "stream": True,
            "tools": [WEATHER],
            "tool_choice": "required",
        },
    )
    spec.validate_event_sequence(stream.events)
    types = [e["type"] for e in stream.events]
    assert "response.function_call_arguments.delta" in types
    done = next(e for e in stream.events if e["type"] == "response.function_call_arguments.done")
    deltas = [
        e["delta"] for e in stream.events if e["type"] == "response.function_call_arguments.delta"
    ]
    assert "".join(deltas) == done["arguments"]
    assert done["name"] == "get_weather"


def test_auto_tool_choice_text_or_call(fake_stack: Stack) -> None:
    client = fake_stack.openai()
    text = client.responses.create(model=MODEL, input="hello", tools=[WEATHER])
    assert text.output[0].type == "message"
    called = client.responses.create(model=MODEL, input="use get_weather", tools=[WEATHER])
    assert called.output[0].type == "function_call"
    none = client.responses.create(
        model=MODEL, input="use get_weather", tools=[WEATHER], tool_choice="none"
    )
    assert none.output[0].type == "message"


def test_json_schema_output(fake_stack: Stack) -> None:
    schema = {
        "type": "object",
        "properties": {"capital": {"type": "string"}},
        "required": ["capital"],
        "additionalProperties": False,
    }
    response = fake_stack.openai().responses.create(
        model=MODEL,
        input="capital of France?",
        text={
            "format": {"type": "json_schema", "name": "capital", "schema": schema, "strict": True}
        },
    )
    spec.validate_response(response.model_dump(mode="json", exclude_unset=True, by_alias=True))
    assert set(json.loads(response.output_text)) == {"capital"}
    assert response.text.format.type == "json_schema"  # type: ignore[union-attr]


def test_reasoning_items(reasoning_stack: Stack) -> None:
    stream = post_stream(
        reasoning_stack.url("/v1/responses"), {"model": MODEL, "input": "hi", "stream": True}
    )
    spec.validate_event_sequence(stream.events)
    types = [e["type"] for e in stream.events]
    assert types.index("response.reasoning_text.delta") < types.index("response.output_text.delta")
    final = stream.events[-1]["response"]
    assert [i["type"] for i in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["content"][0]["text"] == "Thinking briefly."
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] == 2


def test_stateless_multi_turn_with_tool_outputs(fake_stack: Stack) -> None:
    """Codex-style: every turn resends earlier function calls and their outputs."""
    # plain dicts as clients send them: the assistant turn has output_text parts but no id or
    # status, so it fits none of the SDK's input item TypedDicts
    turns: list[Any] = [
        {"role": "developer", "content": "You are terse."},
        {"role": "user", "content": [{"type": "input_text", "text": "weather in Paris?"}]},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city": "Paris", "days": 1}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "It is sunny."}],
        },
        {"role": "user", "content": "thanks"},
    ]
    response = fake_stack.openai().responses.create(
        model=MODEL, instructions="Be brief.", tools=[WEATHER], input=turns
    )
    assert response.status == "completed"
    assert response.instructions == "Be brief."
