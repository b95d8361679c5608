"""What real agent clients send, against the fake sidecar: the fields the spec lags on
(client_metadata), their headers, namespace tools, custom tools and hosted tools, with
every body and event checked against the spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from frontend import tool_shapes, translate
from frontend.openai.client_fields import CLIENT_FIELDS, ClientFields
from frontend.openai.request import CreateResponse
from tests import spec
from tests.conftest import _stack
from tests.frontend.scripted import make_handshake
from tests.spec.extension_events import standard_events
from tests.spec.stream_event import validate_openai_stream_event
from tests.sse import post_stream
from tests.stack import Stack

MODEL = "fake-model"
NAMESPACE: Any = {
    "type": "namespace",
    "name": "multi_agent_v1",
    "description": "Tools for spawning and managing sub-agents.",
    "tools": [
        {
            "type": "function",
            "name": "spawn_agent",
            "description": "Spawn a sub-agent.",
            "strict": False,
            "parameters": {
                "type": "object",
                "properties": {"task": {"type": "string"}},
                "required": ["task"],
                "additionalProperties": False,
            },
        }
    ],
}
PATCH: Any = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Apply a patch.",
    "format": {"type": "grammar", "syntax": "lark", "definition": 'start: "*** Begin Patch"'},
}
HEADERS = {"session-id": "s-1", "x-client-request-id": "c-1", "originator": "codex_exec"}
CODEX_LIKE: Any = {
    "model": MODEL,
    "store": False,
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "reasoning": {"summary": "auto"},
    "include": ["reasoning.encrypted_content"],
    "prompt_cache_key": "thread-1",
    "client_metadata": {"turn_id": "t-1", "x-codex-installation-id": "i-1"},
    "tools": [NAMESPACE, {"type": "web_search", "external_web_access": False}],
}


def openai_valid(response: dict[str, Any]) -> None:
    """OpenAI's spec: Open Responses' ResponseResource lists function tools only, so a
    response that echoes namespace, custom or hosted tools is checked against OpenAI's."""
    spec.validate(response, "Response")


def events_valid(events: list[dict[str, Any]], *, openai_only: bool = False) -> None:
    """The whole event sequence, with the echoed tools set aside (see openai_valid); each
    event under OpenAI's spec, and the sequence under both (`openai_only`: OpenAI's alone,
    for custom tool calls, which Open Responses does not have)."""
    for event in standard_events(events):  # (Portico's extension events: checked there)
        validate_openai_stream_event(event)
    if openai_only:
        return
    spec.validate_event_sequence(
        [dict(e, response=dict(e["response"], tools=[])) if "response" in e else e for e in events]
    )


def test_every_client_field_is_accepted_and_documented() -> None:
    assert set(CLIENT_FIELDS) == set(ClientFields.model_fields)
    body = CreateResponse.model_validate({"model": "m", "client_metadata": {"a": "b"}})
    assert body.client_metadata == {"a": "b"}


def test_a_codex_turn_with_its_headers_completes(fake_stack: Stack) -> None:
    reply = httpx.post(
        fake_stack.url("/v1/responses"), json={**CODEX_LIKE, "input": "hi"}, headers=HEADERS
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    openai_valid(body)
    assert body["status"] == "completed"
    assert body["omitted_tools"] == ["web_search"]
    assert [tool["type"] for tool in body["tools"]] == ["namespace"]  # what the model saw
    assert "client_metadata" not in body


def test_unknown_fields_are_still_refused(fake_stack: Stack) -> None:
    reply = httpx.post(
        fake_stack.url("/v1/responses"), json={"model": MODEL, "input": "hi", "client_meta": {}}
    )
    assert reply.status_code == 400
    assert "Unknown parameter" in reply.json()["error"]["message"]


def test_a_namespaced_call_names_its_namespace(fake_stack: Stack) -> None:
    tools = [NAMESPACE]
    stream = post_stream(
        fake_stack.url("/v1/responses"),
        {"model": MODEL, "tools": tools, "input": "use multi_agent_v1.spawn_agent", "stream": True},
    )
    events_valid(stream.events)
    done = stream.events[-1]["response"]
    openai_valid(done)
    call = done["output"][0]
    assert call["type"] == "function_call"
    assert (call["namespace"], call["name"]) == ("multi_agent_v1", "spawn_agent")
    assert json.loads(call["arguments"]) == {"task": "fake"}
    args_done = next(e for e in stream.events if e["type"].endswith("arguments.done"))
    assert args_done["name"] == "spawn_agent"
    # sent back as history, the call and its output continue the conversation
    follow = [
        {"role": "user", "content": "go"},
        {k: call[k] for k in ("type", "call_id", "name", "namespace", "arguments")},
        {"type": "function_call_output", "call_id": call["call_id"], "output": "spawned"},
    ]
    reply = httpx.post(
        fake_stack.url("/v1/responses"),
        json={"model": MODEL, "tools": tools, "input": follow, "store": True},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["output"][0]["type"] == "message"  # answered: the output came last
    items = httpx.get(
        fake_stack.url(f"/v1/responses/{reply.json()['id']}/input_items?order=asc")
    ).json()
    assert items["data"][1]["namespace"] == "multi_agent_v1"


def test_a_custom_tool_call_returns_its_input(fake_stack: Stack) -> None:
    stream = post_stream(
        fake_stack.url("/v1/responses"),
        {"model": MODEL, "tools": [PATCH], "input": "apply_patch please", "stream": True},
    )
    events_valid(stream.events, openai_only=True)
    types = [e["type"] for e in stream.events]
    assert "response.custom_tool_call_input.delta" in types
    assert not any("function_call_arguments" in t for t in types)
    done = next(e for e in stream.events if e["type"] == "response.custom_tool_call_input.done")
    response = stream.events[-1]["response"]
    openai_valid(response)
    call = response["output"][0]
    assert call["type"] == "custom_tool_call" and call["id"].startswith("ctc_")
    assert call["input"] == done["input"] == "fake"
    follow = [
        {"role": "user", "content": "go"},
        {k: call[k] for k in ("type", "call_id", "name", "input")},
        {"type": "custom_tool_call_output", "call_id": call["call_id"], "output": "Done!"},
        {"role": "user", "content": "and now fake:echo"},
    ]
    reply = httpx.post(
        fake_stack.url("/v1/responses"), json={"model": MODEL, "tools": [PATCH], "input": follow}
    )
    assert reply.status_code == 200, reply.text
    openai_valid(reply.json())


def test_a_named_custom_tool_choice_forces_the_call(fake_stack: Stack) -> None:
    reply = httpx.post(
        fake_stack.url("/v1/responses"),
        json={
            "model": MODEL,
            "tools": [PATCH],
            "tool_choice": {"type": "custom", "name": "apply_patch"},
            "input": "hi",
        },
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["output"][0]["type"] == "custom_tool_call"


def test_custom_tools_are_rendered_with_their_grammar() -> None:
    body = CreateResponse.model_validate({"model": "m", "tools": [PATCH, NAMESPACE]})
    rendered = tool_shapes.render(body.tools or [])
    assert [t.name for t in rendered] == ["apply_patch", "multi_agent_v1.spawn_agent"]
    assert rendered[0].parameters == tool_shapes.CUSTOM_PARAMETERS
    assert "lark grammar" in (rendered[0].description or "")
    assert tool_shapes.custom_input(tool_shapes.custom_arguments("x\ny")) == "x\ny"


@pytest.fixture(scope="module")
def refusing_stack() -> Iterator[Stack]:
    yield from _stack("--fake", "--responses-hosted-tools", "refuse")


def test_hosted_tools_can_be_refused_by_name(refusing_stack: Stack) -> None:
    reply = httpx.post(
        refusing_stack.url("/v1/responses"), json={**CODEX_LIKE, "input": "hi"}, headers=HEADERS
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == "tools[1].type" and "web_search" in error["message"]


def test_a_named_custom_tool_with_a_grammar_asks_the_engine_for_it() -> None:
    body = CreateResponse.model_validate(
        {"model": "m", "tools": [PATCH], "tool_choice": {"type": "custom", "name": "apply_patch"}}
    )
    request = translate.generate_request(body, [], request_id="resp_1", handshake=make_handshake())
    assert request.tool_name == "apply_patch"
    assert request.grammar is not None
    assert (request.grammar.syntax, request.grammar.definition) == (
        "lark",
        PATCH["format"]["definition"],
    )
    # under auto there is nothing to constrain: the call sits in free text
    auto = CreateResponse.model_validate({"model": "m", "tools": [PATCH]})
    assert (
        translate.generate_request(
            auto, [], request_id="resp_2", handshake=make_handshake()
        ).grammar
        is None
    )
