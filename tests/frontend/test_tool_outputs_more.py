"""Tool-output sessions beyond plain function calls (sessions.py, routes/tool_outputs.py,
background.continue_run), in-process with the scripted sidecar and the memory store:

- a response that ended in a custom tool call (Codex's apply_patch) waits for its output,
  and takes it through `POST …/tool_outputs` and through `previous_response_id` with a
  `custom_tool_call_output` item;
- a background response continued with tool outputs runs as a background run: its new
  round is in the run log, so a resume (`GET …?stream=true&starting_after=N`) sees it.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from inference.protocol import Role
from tests import spec
from tests.frontend.routes.test_background import kept, resume
from tests.frontend.routes.test_responses_routes import Portico, parse_sse, portico, stream_of
from tests.frontend.scripted import reply, tool_call

PATCH: Any = {"type": "custom", "name": "apply_patch", "description": "Apply a patch."}
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
PATCH_TEXT = "*** Begin Patch\n*** End Patch"


def openai_only(body: dict[str, Any]) -> None:
    """OpenAI's spec alone: Open Responses has no custom tools (test_client_shapes.py)."""
    spec.validate(body, "Response")


def patch_call() -> Any:
    return tool_call("apply_patch", '{"input": "*** Begin Patch\\n*** End Patch"}')


async def stored(p: Portico, rid: str) -> dict[str, Any]:
    reply_ = await p.request("GET", f"/v1/responses/{rid}")
    assert reply_.status_code == 200, reply_.text
    body: dict[str, Any] = reply_.json()
    return body


async def waiting_patch(p: Portico) -> dict[str, Any]:
    created = await p.create(input="Fix the bug.", tools=[PATCH])
    assert created.status_code == 200, created.text
    assert created.json()["status"] == "completed"  # create's answer keeps OpenAI's status
    body = await stored(p, created.json()["id"])
    assert body["status"] == "requires_action", body
    spec.validate(dict(body, status="completed"), "Response")  # see openai_only below
    [call] = body["output"]
    assert call["type"] == "custom_tool_call" and call["input"] == PATCH_TEXT
    [listed] = body["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert listed == {
        "id": call["id"],
        "type": "custom",
        "call_id": "call_1",
        "name": "apply_patch",
        "input": PATCH_TEXT,
    }
    return body


async def test_a_custom_tool_call_takes_its_output_through_tool_outputs() -> None:
    p = portico(patch_call(), reply("Patched."))
    body = await waiting_patch(p)
    submitted = await p.request(
        "POST",
        f"/v1/responses/{body['id']}/tool_outputs",
        json={"tool_outputs": [{"call_id": "call_1", "output": "Done!"}]},
    )
    assert submitted.status_code == 200, submitted.text
    done = submitted.json()
    openai_only(done)
    assert done["status"] == "completed" and done["output"][-1]["type"] == "message"
    sent = p.client.requests[1].messages
    assert [(m.role, m.content) for m in sent][-1] == (Role.TOOL, "Done!")
    assert sent[-1].tool_call_id == "call_1"
    assert [c.id for c in sent[-2].tool_calls] == ["call_1"]  # the call, as the model made it
    items = (await p.request("GET", f"/v1/responses/{body['id']}/input_items")).json()["data"]
    output_item = items[0]  # newest first
    assert output_item["type"] == "custom_tool_call_output" and output_item["output"] == "Done!"
    assert output_item["id"].startswith("ctco") and output_item["call_id"] == "call_1"


async def test_a_custom_tool_call_takes_its_output_through_previous_response_id() -> None:
    p = portico(patch_call(), reply("Patched."))
    body = await waiting_patch(p)
    follow = await p.create(
        input=[{"type": "custom_tool_call_output", "call_id": "call_1", "output": "Done!"}],
        previous_response_id=body["id"],
        tools=[PATCH],
    )
    assert follow.status_code == 200, follow.text
    openai_only(follow.json())
    assert follow.json()["status"] == "completed"
    sent = p.client.requests[1].messages
    assert [(m.role, m.content) for m in sent] == [
        (Role.USER, "Fix the bug."),
        (Role.ASSISTANT, None),
        (Role.TOOL, "Done!"),
    ]
    assert [c.id for c in sent[1].tool_calls] == ["call_1"]


async def test_a_missing_custom_call_output_is_400_naming_it() -> None:
    p = portico(patch_call())
    body = await waiting_patch(p)
    refused = await p.request(
        "POST",
        f"/v1/responses/{body['id']}/tool_outputs",
        json={"tool_outputs": [{"call_id": "call_9", "output": "?"}]},
    )
    assert refused.status_code == 400, refused.text
    assert "call_1" in refused.json()["error"]["message"]


async def background_waiting(p: Portico) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    created = await p.create(input="Weather in Paris?", tools=[WEATHER], background=True)
    assert created.status_code == 200, created.text
    rid = created.json()["id"]
    deadline = asyncio.get_running_loop().time() + 5
    while (body := await stored(p, rid))["status"] in ("queued", "in_progress"):
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.02)
    first = stream_of(await resume(p, rid)).events
    assert first[-1]["type"] == "response.completed"
    assert (await stored(p, rid))["status"] == "requires_action"
    return body, first


async def test_a_background_continuation_is_logged_for_resumes() -> None:
    p = kept(portico(tool_call("get_weather", '{"city": "Paris"}'), reply("It is", " sunny.")))
    body, first = await background_waiting(p)
    rid, last = body["id"], first[-1]["sequence_number"]
    submitted = await p.request(
        "POST",
        f"/v1/responses/{rid}/tool_outputs",
        json={"tool_outputs": [{"call_id": "call_1", "output": "sun"}]},
    )
    assert submitted.status_code == 200, submitted.text
    final = submitted.json()
    assert final["status"] == "completed" and final["output"][-1]["type"] == "message"
    assert await stored(p, rid) == final
    resumed = await resume(p, rid, starting_after=last)
    assert resumed.status_code == 200, resumed.text
    events = parse_sse(resumed.text).events
    assert [e["sequence_number"] for e in events] == list(range(last + 1, last + 1 + len(events)))
    assert events[0]["type"] == "response.in_progress"
    assert events[-1]["type"] == "response.completed" and events[-1]["response"] == final
    spliced = copy.deepcopy(first[:-1] + events)  # one valid stream, the first end cut out
    for number, event in enumerate(spliced):
        event["sequence_number"] = number
    spec.validate_event_sequence(spliced)


async def test_a_streamed_background_continuation_follows_the_log() -> None:
    p = kept(portico(tool_call("get_weather", '{"city": "Paris"}'), reply("Sunny.")))
    body, first = await background_waiting(p)
    rid, last = body["id"], first[-1]["sequence_number"]
    submitted = await p.request(
        "POST",
        f"/v1/responses/{rid}/tool_outputs",
        json={"tool_outputs": [{"call_id": "call_1", "output": "sun"}], "stream": True},
    )
    assert submitted.status_code == 200, submitted.text
    streamed = parse_sse(submitted.text).events
    assert streamed[0]["sequence_number"] == last + 1
    assert streamed[-1]["type"] == "response.completed"
    replayed = parse_sse((await resume(p, rid, starting_after=last)).text).events
    assert [e["sequence_number"] for e in replayed] == [e["sequence_number"] for e in streamed]
    assert (await stored(p, rid))["status"] == "completed"
