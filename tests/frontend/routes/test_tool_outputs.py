"""`POST /v1/responses/{id}/tool_outputs` in-process (routes/tool_outputs.py, sessions.py):
the real app with the scripted sidecar and the memory store.

A response that ends in function calls is stored waiting (native mode: `requires_action`
with `required_action`), and the continuation is the same response, updated: JSON as
stored, or a stream whose sequence numbers go on from the response's last event. Every edge
the issue names: parallel calls need every output, an unknown call_id, a duplicate
submission, a finished or expired response, a body over the cap; compatibility mode has no
such path; OpenAI's own loop (`previous_response_id` + `function_call_output`) still works.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import msgspec
from sanic import Request

from frontend.sessions import TIMEOUT_CODE
from frontend.store import StoredResponse
from inference.protocol import (
    Delta,
    ErrorCode,
    Final,
    FinishReason,
    RequestError,
    Role,
    ToolCallDelta,
)
from tests import spec
from tests.frontend.routes.test_responses_routes import (
    Portico,
    Reply,
    assert_error,
    parse_sse,
    portico,
)
from tests.frontend.scripted import Script, reply, tool_call, usage

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TIME = {"type": "function", "name": "get_time", "parameters": {"type": "object"}}


def parallel(*names: str) -> Script:
    """Parallel function calls, one per name (call ids call_0, call_1, ...)."""
    deltas = [
        Delta(tool_calls=[ToolCallDelta(index=i, id=f"call_{i}", name=n, arguments="{}")])
        for i, n in enumerate(names)
    ]
    return Script([*deltas, Final(finish_reason=FinishReason.TOOL_CALLS, usage=usage())])


def validate_waiting(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A response waiting for tool outputs, against both specs with `status` relaxed.

    `requires_action` is Portico's native extension (the Assistants API's name for the same
    state) and not one of the statuses OpenAI's or Open Responses' Response schema allows, so
    such a body cannot pass them as it is. Everything else must: the body is validated with
    `status` set to `completed` (what compatibility mode answers), and `required_action`
    (an extra field, which both schemas allow) is checked here. Returns the pending calls."""
    assert body["status"] == "requires_action", body["status"]
    spec.validate_response(dict(body, status="completed"))
    action = body["required_action"]
    assert action["type"] == "submit_tool_outputs"
    calls: list[dict[str, Any]] = action["submit_tool_outputs"]["tool_calls"]
    output_calls = [i for i in body["output"] if i["type"] == "function_call"]
    assert {c["call_id"] for c in calls} <= {i["call_id"] for i in output_calls}
    for call in calls:
        assert call["type"] == "function" and call["name"] and "arguments" in call
    return calls


def validate_timed_out(body: dict[str, Any]) -> None:
    """A response failed by the tool timeout, against both specs with `error.code` relaxed.

    OpenAI's ResponseError `code` is a closed list of its own failures; `tool_output_timeout`
    (the code the issue names, native mode only: compatibility mode keeps no sessions) is not
    in it. The body is validated with the code set to `server_error`; the rest must pass."""
    assert body["status"] == "failed" and body["error"]["code"] == TIMEOUT_CODE
    spec.validate_response(dict(body, error=dict(body["error"], code="server_error")))


def valid(reply: Reply) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    if body["status"] == "requires_action":
        validate_waiting(body)
    elif (body.get("error") or {}).get("code") == TIMEOUT_CODE:
        validate_timed_out(body)
    else:
        spec.validate_response(body)
    return body


def continued_stream(before: list[dict[str, Any]], reply: Reply) -> list[dict[str, Any]]:
    """The continuation's events: numbered on from `before` (the response's earlier stream),
    and, spliced after it in place of its terminal event, one valid event stream."""
    assert reply.status_code == 200, reply.text
    stream = parse_sse(reply.text)
    assert stream.done
    events = stream.events
    first = before[-1]["sequence_number"] + 1
    assert [e["sequence_number"] for e in events] == list(range(first, first + len(events)))
    assert events[0]["type"] == "response.in_progress"
    spliced = copy.deepcopy(before[:-1] + events)
    for number, event in enumerate(spliced):
        event["sequence_number"] = number
    spec.validate_event_sequence(spliced)
    return events


async def submit(p: Portico, response_id: str, outputs: list[Any], **body: Any) -> Reply:
    return await p.request(
        "POST",
        f"/v1/responses/{response_id}/tool_outputs",
        json={"tool_outputs": outputs, **body},
    )


async def get(p: Portico, response_id: str) -> Reply:
    return await p.request("GET", f"/v1/responses/{response_id}")


async def waiting(p: Portico, **body: Any) -> dict[str, Any]:
    """Create a response that ends in calls; check create's answer and the stored one."""
    created = valid(await p.create(input="Weather in Paris?", tools=[WEATHER], **body))
    assert created["status"] == "completed"  # create's own answer keeps OpenAI's status
    stored = valid(await get(p, created["id"]))
    validate_waiting(stored)
    assert stored["output"] == created["output"]
    return stored


# --- the loop ------------------------------------------------------------------------------


async def test_a_json_continuation_is_the_same_response_updated() -> None:
    p = portico(tool_call("get_weather", '{"city":', ' "Paris"}'), reply("It is ", "sunny."))
    stored = await waiting(p, metadata={"k": "v"}, temperature=0.5, top_k=7)
    [call] = validate_waiting(stored)
    assert call["call_id"] == "call_1" and call["arguments"] == '{"city": "Paris"}'

    done = valid(await submit(p, stored["id"], [{"call_id": "call_1", "output": "sunny, 21C"}]))
    assert done["id"] == stored["id"] and done["status"] == "completed"
    assert "required_action" not in done
    assert [i["type"] for i in done["output"]] == ["function_call", "message"]
    assert done["output"][0] == stored["output"][0]
    assert done["output"][1]["content"][0]["text"] == "It is sunny."
    assert done["metadata"] == {"k": "v"} and done["temperature"] == 0.5
    assert done["usage"]["output_tokens"] == stored["usage"]["output_tokens"] + 2  # summed
    assert done["usage"]["input_tokens"] == 2 * stored["usage"]["input_tokens"]
    assert valid(await get(p, stored["id"])) == done

    sent = p.client.requests[1]
    assert sent.request_id == stored["id"] and sent.sampling.top_k == 7  # the same request
    assert [(m.role, m.content) for m in sent.messages] == [
        (Role.USER, "Weather in Paris?"),
        (Role.ASSISTANT, None),
        (Role.TOOL, "sunny, 21C"),
    ]
    assert sent.messages[1].tool_calls[0].id == "call_1"
    assert sent.messages[2].tool_call_id == "call_1"
    assert [t.name for t in sent.tools] == ["get_weather"]

    items = (await p.request("GET", f"/v1/responses/{stored['id']}/input_items")).json()
    spec.validate(items, "ResponseItemList")
    assert [i["type"] for i in items["data"]] == ["function_call_output", "message"]  # desc
    assert items["data"][0]["output"] == "sunny, 21C"


async def test_a_streamed_continuation_numbers_on_from_the_first_stream() -> None:
    p = portico(tool_call("get_weather", "{}"), reply("Sunny", "."))
    created = parse_sse((await p.create(input="hi", tools=[WEATHER], stream=True)).text)
    spec.validate_event_sequence(created.events)
    rid = created.events[-1]["response"]["id"]
    validate_waiting(valid(await get(p, rid)))

    answer = await submit(p, rid, [{"call_id": "call_1", "output": "sun"}], stream=True)
    events = continued_stream(created.events, answer)
    final = events[-1]["response"]
    assert events[-1]["type"] == "response.completed" and final["id"] == rid
    added = [e for e in events if e["type"] == "response.output_item.added"]
    assert [e["output_index"] for e in added] == [1]  # after the kept function call
    assert valid(await get(p, rid)) == final


async def test_a_continuation_that_calls_again_waits_again() -> None:
    p = portico(
        tool_call("get_weather", "{}"),
        tool_call("get_time", "{}", call_id="call_2"),
        reply("Done."),
    )
    stored = await waiting(p, stream=False)
    again = valid(await submit(p, stored["id"], [{"call_id": "call_1", "output": "sun"}]))
    [call] = validate_waiting(again)
    assert call["call_id"] == "call_2" and call["name"] == "get_time"
    assert valid(await get(p, stored["id"])) == again
    stale = await submit(p, stored["id"], [{"call_id": "call_1", "output": "sun"}])
    assert_error(stale, 400, "invalid_value", "tool_outputs[0].call_id")

    done = valid(await submit(p, stored["id"], [{"call_id": "call_2", "output": "noon"}]))
    assert [i["type"] for i in done["output"]] == ["function_call", "function_call", "message"]
    roles = [(m.role, m.content) for m in p.client.requests[2].messages]
    assert roles == [
        (Role.USER, "Weather in Paris?"),
        (Role.ASSISTANT, None),
        (Role.TOOL, "sun"),
        (Role.ASSISTANT, None),
        (Role.TOOL, "noon"),
    ]


async def test_parallel_calls_need_every_output_in_the_calls_order() -> None:
    p = portico(parallel("get_weather", "get_time"), reply("Both."))
    stored = await waiting(p)
    assert [c["call_id"] for c in validate_waiting(stored)] == ["call_0", "call_1"]
    missing = await submit(p, stored["id"], [{"call_id": "call_1", "output": "noon"}])
    error = assert_error(missing, 400, "missing_tool_outputs", "tool_outputs")
    assert "call_0" in error["message"] and "call_1" not in error["message"]
    twice = [{"call_id": "call_0", "output": "a"}, {"call_id": "call_0", "output": "b"}]
    assert_error(
        await submit(p, stored["id"], twice), 400, "invalid_value", "tool_outputs[1].call_id"
    )
    validate_waiting(valid(await get(p, stored["id"])))  # nothing was taken

    both = [
        {"call_id": "call_1", "output": [{"type": "input_text", "text": "noon"}]},
        {"call_id": "call_0", "output": "sun"},
    ]
    valid(await submit(p, stored["id"], both))
    tools = [(m.tool_call_id, m.content) for m in p.client.requests[1].messages[2:]]
    assert tools == [("call_0", "sun"), ("call_1", "noon")]


async def test_an_unknown_call_id_is_400_naming_it() -> None:
    p = portico(tool_call("get_weather", "{}"))
    stored = await waiting(p)
    answer = await submit(p, stored["id"], [{"call_id": "call_9", "output": "x"}])
    error = assert_error(answer, 400, "invalid_value", "tool_outputs[0].call_id")
    assert "call_9" in error["message"] and "call_1" in error["message"]


async def test_a_malformed_body_is_400() -> None:
    p = portico(tool_call("get_weather", "{}"))
    stored = await waiting(p)
    path = f"/v1/responses/{stored['id']}/tool_outputs"
    for body, param in (
        ({}, "tool_outputs"),
        ({"tool_outputs": []}, "tool_outputs"),
        ({"tool_outputs": [{"call_id": "call_1"}]}, "tool_outputs[0].output"),
        ({"tool_outputs": [{"call_id": "call_1", "output": "x", "extra": 1}]}, None),
    ):
        answer = await p.request("POST", path, json=body)
        assert answer.status_code == 400, answer.text
        spec.validate_error(answer.json())
        if param is not None:
            assert answer.json()["error"]["param"] == param
    image = [{"call_id": "call_1", "output": [{"type": "input_image", "image_url": "x"}]}]
    answer = await submit(p, stored["id"], image)
    assert_error(answer, 400, "unsupported_parameter", "tool_outputs[0].output[0]")


# --- refusals ------------------------------------------------------------------------------


async def test_a_duplicate_submission_is_409() -> None:
    p = portico(tool_call("get_weather", "{}"), reply("ok"))
    stored = await waiting(p)
    outputs = [{"call_id": "call_1", "output": "sun"}]
    valid(await submit(p, stored["id"], outputs))
    again = await submit(p, stored["id"], outputs)
    error = assert_error(again, 409, "conflict", "tool_outputs")
    assert "completed" in error["message"]


async def test_a_submission_another_worker_took_is_409() -> None:
    """Two workers given the same outputs at once: the store's claim lets one through."""
    p = portico(tool_call("get_weather", "{}"))
    stored = await waiting(p)
    assert await p.store.claim("", f"{stored['id']}:tool_outputs:0", 60)  # the other worker
    answer = await submit(p, stored["id"], [{"call_id": "call_1", "output": "sun"}])
    error = assert_error(answer, 409, "conflict", "tool_outputs")
    assert "already submitted" in error["message"]


async def test_a_finished_response_is_409_and_an_unknown_one_404() -> None:
    p = portico(reply("Hello"))
    done = valid(await p.create(input="hi", tools=[WEATHER]))
    answer = await submit(p, done["id"], [{"call_id": "call_1", "output": "x"}])
    error = assert_error(answer, 409, "conflict", "tool_outputs")
    assert "no pending tool calls" in error["message"]
    assert_error(
        await submit(p, "resp_nope", [{"call_id": "c", "output": "x"}]),
        404,
        "not_found",
        "response_id",
    )


async def test_another_tenant_gets_404_and_the_owner_still_submits() -> None:
    p = portico(tool_call("get_weather", "{}"), reply("ok"))

    async def tenant(request: Request) -> None:
        request.ctx.tenant = request.headers.get("X-Test-Tenant", "")

    p.app.register_middleware(tenant, "request")
    created = await p.request(
        "POST",
        "/v1/responses",
        json={"model": "scripted-model", "input": "weather?", "tools": [WEATHER]},
        headers={"X-Test-Tenant": "alice"},
    )
    rid = created.json()["id"]
    body = {"tool_outputs": [{"call_id": "call_1", "output": "sun"}]}
    path = f"/v1/responses/{rid}/tool_outputs"
    bob = await p.request("POST", path, json=body, headers={"X-Test-Tenant": "bob"})
    assert_error(bob, 404, "not_found", "response_id")
    alice = await p.request("POST", path, json=body, headers={"X-Test-Tenant": "alice"})
    assert valid(alice)["status"] == "completed"  # bob's try claimed nothing


async def test_a_response_the_store_expired_is_404() -> None:
    """--responses-store-ttl-seconds ends a waiting response too: its outputs are a 404, as
    for any response the store no longer has (not the tool timeout's 409)."""
    p = portico(tool_call("get_weather", "{}"), reply("ok"))
    stored = await waiting(p)
    key = next(k for k in p.store._entries if k[1] == stored["id"])
    p.store._entries[key] = (time.monotonic() - 1, p.store._entries[key][1])  # past its TTL
    answer = await submit(p, stored["id"], [{"call_id": "call_1", "output": "late"}])
    assert_error(answer, 404, "not_found", "response_id")
    assert_error(await get(p, stored["id"]), 404, "not_found", "response_id")
    assert len(p.client.requests) == 1  # nothing ran


async def test_store_false_keeps_no_session() -> None:
    p = portico(tool_call("get_weather", "{}"))
    created = valid(await p.create(input="hi", tools=[WEATHER], store=False))
    answer = await submit(p, created["id"], [{"call_id": "call_1", "output": "x"}])
    assert_error(answer, 404, "not_found", "response_id")


def age(p: Portico, response_id: str, seconds: float) -> None:
    """Make the stored session `seconds` older (the timeout counts wall-clock time)."""
    key = next(k for k in p.store._entries if k[1] == response_id)
    expires, blob = p.store._entries[key]
    entry = msgspec.msgpack.decode(blob[blob.index(b"\n") + 1 :], type=StoredResponse)
    assert entry.session is not None and entry.session.waiting_since is not None
    session = msgspec.structs.replace(entry.session, waiting_since=time.time() - seconds)
    from frontend.store import codec

    p.store._entries[key] = (expires, codec.encode(msgspec.structs.replace(entry, session=session)))


async def test_the_tool_timeout_fails_a_response_on_read() -> None:
    p = portico(tool_call("get_weather", "{}"), TOOL_TIMEOUT=30.0)
    stored = await waiting(p)  # just created: not expired
    age(p, stored["id"], 31)
    failed = valid(await get(p, stored["id"]))
    assert failed["status"] == "failed" and "required_action" not in failed
    assert failed["error"]["code"] == TIMEOUT_CODE
    assert "30 s" in failed["error"]["message"]
    assert failed["output"] == stored["output"]
    answer = await submit(p, stored["id"], [{"call_id": "call_1", "output": "late"}])
    error = assert_error(answer, 409, "conflict", "tool_outputs")
    assert TIMEOUT_CODE in error["message"]
    assert len(p.client.requests) == 1  # nothing ran


async def test_the_tool_timeout_is_checked_when_continued() -> None:
    p = portico(tool_call("get_weather", "{}"), TOOL_TIMEOUT=30.0)
    stored = await waiting(p)
    age(p, stored["id"], 31)
    answer = await submit(p, stored["id"], [{"call_id": "call_1", "output": "late"}])
    assert_error(answer, 409, "conflict", "tool_outputs")
    assert valid(await get(p, stored["id"]))["error"]["code"] == TIMEOUT_CODE


async def test_without_a_tool_timeout_a_response_waits() -> None:
    p = portico(tool_call("get_weather", "{}"), reply("ok"))  # TOOL_TIMEOUT 0: off
    stored = await waiting(p)
    age(p, stored["id"], 7 * 24 * 3600)
    validate_waiting(valid(await get(p, stored["id"])))
    valid(await submit(p, stored["id"], [{"call_id": "call_1", "output": "sun"}]))


async def test_a_refused_continuation_can_be_submitted_again() -> None:
    """The sidecar refuses the continuation before it starts: the response waits again and
    the claim is given back, so the same outputs can be sent once the sidecar is back."""
    refused = Script(refuse=RequestError(ErrorCode.OVERLOADED, "busy"))
    p = portico(tool_call("get_weather", "{}"), refused, reply("ok"))
    stored = await waiting(p)
    outputs = [{"call_id": "call_1", "output": "sun"}]
    assert_error(await submit(p, stored["id"], outputs), 503, "service_unavailable")
    assert valid(await get(p, stored["id"])) == stored
    assert valid(await submit(p, stored["id"], outputs))["status"] == "completed"


# --- modes and OpenAI's own loop -------------------------------------------------------------


async def test_compatibility_mode_has_no_sessions_and_no_route() -> None:
    p = portico(tool_call("get_weather", "{}"), COMPATIBILITY_MODE=True)
    created = valid(await p.create(input="hi", tools=[WEATHER]))
    stored = valid(await get(p, created["id"]))
    assert stored == created and stored["status"] == "completed"
    assert "required_action" not in stored
    answer = await submit(p, created["id"], [{"call_id": "call_1", "output": "x"}])
    unknown = await p.request("POST", "/v1/responses/x/unknown_path", json={})
    assert_error(answer, 404, "not_found")
    assert unknown.status_code == 404


async def test_openai_loop_still_works_on_a_waiting_response() -> None:
    p = portico(tool_call("get_weather", "{}"), reply("It is sunny."), reply("Bye."))
    stored = await waiting(p)
    follow = await p.create(
        input=[{"type": "function_call_output", "call_id": "call_1", "output": "sun"}],
        previous_response_id=stored["id"],
        tools=[WEATHER],
    )
    body = valid(follow)
    assert body["status"] == "completed" and "required_action" not in body
    assert [(m.role, m.content) for m in p.client.requests[1].messages] == [
        (Role.USER, "Weather in Paris?"),
        (Role.ASSISTANT, None),
        (Role.TOOL, "sun"),
    ]


async def test_previous_response_id_after_a_continuation_keeps_the_order() -> None:
    p = portico(tool_call("get_weather", "{}"), reply("It is sunny."), reply("Bye."))
    stored = await waiting(p)
    valid(await submit(p, stored["id"], [{"call_id": "call_1", "output": "sun"}]))
    valid(await p.create(input="Thanks!", previous_response_id=stored["id"]))
    sent = p.client.requests[2].messages
    assert [(m.role, m.content) for m in sent] == [
        (Role.USER, "Weather in Paris?"),
        (Role.ASSISTANT, None),
        (Role.TOOL, "sun"),
        (Role.ASSISTANT, "It is sunny."),
        (Role.USER, "Thanks!"),
    ]
    assert [c.id for c in sent[1].tool_calls] == ["call_1"] and not sent[3].tool_calls
