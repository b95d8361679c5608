"""Tool-output sessions on real frontends sharing one redis-server: a response created on
one pod (two Sanic workers) waits for its tool outputs and is continued on the other pod,
then read and refused again on the first; outputs over the body cap are 413 from Sanic's
own cap; OpenAI's loop with the SDK moves between pods too.

The fake engine calls a tool (tool_choice auto) when the last user message names it, and
answers in text once the last message is the tool's output, as a model would.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from tests import spec
from tests.frontend.routes.test_tool_outputs import validate_waiting
from tests.pods import call, two_pods
from tests.redis_server import RedisServer
from tests.sse import post_stream
from tests.stack import Stack

MODEL = "fake-model"
CAP = 65_536  # PORTICO_MAX_BODY_BYTES of both pods
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(scope="module")
def pods(redis_server: RedisServer) -> Iterator[tuple[Stack, Stack]]:
    yield from two_pods(redis_server, env={"PORTICO_MAX_BODY_BYTES": str(CAP)})


def submit_url(pod: Stack, response_id: str) -> str:
    return pod.url(f"/v1/responses/{response_id}/tool_outputs")


def test_created_on_one_pod_continued_on_the_other(pods: tuple[Stack, Stack]) -> None:
    creator, continuer = pods
    body = {"model": MODEL, "input": "Use get_weather for Paris.", "tools": [WEATHER]}
    created = post_stream(creator.url("/v1/responses"), {**body, "stream": True})
    assert created.status == 200, created.body
    spec.validate_event_sequence(created.events)
    rid = created.events[-1]["response"]["id"]
    assert created.events[-1]["response"]["status"] == "completed"

    waiting = call("GET", continuer.url(f"/v1/responses/{rid}")).json()
    [pending] = validate_waiting(waiting)
    assert pending["name"] == "get_weather" and pending["arguments"] == '{"city": "fake"}'
    outputs = [{"call_id": pending["call_id"], "output": "sunny, 21C"}]

    answer = post_stream(submit_url(continuer, rid), {"tool_outputs": outputs, "stream": True})
    assert answer.status == 200, answer.body
    assert answer.done
    first = created.events[-1]["sequence_number"] + 1
    numbers = [e["sequence_number"] for e in answer.events]
    assert numbers == list(range(first, first + len(answer.events)))
    spliced = copy.deepcopy(created.events[:-1] + answer.events)
    for number, event in enumerate(spliced):
        event["sequence_number"] = number
    spec.validate_event_sequence(spliced)
    final = answer.events[-1]["response"]
    assert final["id"] == rid and final["status"] == "completed"
    assert [i["type"] for i in final["output"]] == ["function_call", "message"]

    for _ in range(4):  # both workers of the first pod see the continued response
        fetched = call("GET", creator.url(f"/v1/responses/{rid}"))
        assert fetched.status_code == 200
        spec.validate_response(fetched.json())
        assert fetched.json() == final
    again = call("POST", submit_url(creator, rid), json={"tool_outputs": outputs})
    assert again.status_code == 409, again.text
    spec.validate_error(again.json())
    assert again.json()["error"]["param"] == "tool_outputs"


def test_a_json_continuation_and_the_body_cap(pods: tuple[Stack, Stack]) -> None:
    creator, continuer = pods
    body = {"model": MODEL, "input": "get_weather please", "tools": [WEATHER]}
    created = call("POST", continuer.url("/v1/responses"), json=body).json()
    spec.validate_response(created)
    call_id = created["output"][0]["call_id"]
    huge = [{"call_id": call_id, "output": "x" * (CAP + 1)}]
    too_big = call("POST", submit_url(creator, created["id"]), json={"tool_outputs": huge})
    assert too_big.status_code == 413, too_big.text
    spec.validate_error(too_big.json())
    assert too_big.json()["error"]["code"] == "request_too_large"

    outputs = [{"call_id": call_id, "output": "rain"}]
    done = call("POST", submit_url(creator, created["id"]), json={"tool_outputs": outputs})
    assert done.status_code == 200, done.text
    spec.validate_response(done.json())
    assert done.json()["status"] == "completed" and done.json()["id"] == created["id"]
    items = call("GET", continuer.url(f"/v1/responses/{created['id']}/input_items")).json()
    spec.validate(items, "ResponseItemList")
    assert items["data"][0]["type"] == "function_call_output"


def test_openai_loop_moves_between_pods(pods: tuple[Stack, Stack]) -> None:
    creator, continuer = pods
    first = creator.openai().responses.create(
        model=MODEL,
        input="Call get_weather for Paris.",
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert first.status == "completed"
    [fc] = [item for item in first.output if item.type == "function_call"]
    second = continuer.openai().responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": fc.call_id, "output": "sun"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert second.status == "completed" and second.output_text
    raw = call("GET", creator.url(f"/v1/responses/{second.id}")).json()
    spec.validate_response(raw)
    assert raw["output"][0]["content"][0]["text"] == second.output_text
