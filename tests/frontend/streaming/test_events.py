"""The pure event builders: same input, same event; each event valid under both specs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from frontend.openai.request import CreateResponse
from frontend.openai.response import skeleton
from frontend.streaming import events as ev
from tests import spec

MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "status": "in_progress",
    "content": [],
}
TEXT_PART = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
LOGPROBS = [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}]
CALL = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_1",
    "name": "f",
    "arguments": "",
    "status": "in_progress",
}


def response() -> dict[str, Any]:
    body = CreateResponse.model_validate({"model": "m", "input": "hi"})
    return skeleton(body, response_id="resp_1", model="m")


BUILDERS: dict[str, tuple[Callable[..., ev.Event], tuple[Any, ...]]] = {
    "response.created": (ev.response_event, ("created", 0, response())),
    "response.in_progress": (ev.response_event, ("in_progress", 1, response())),
    "response.output_item.added": (ev.output_item_added, (2, 0, MESSAGE)),
    "response.output_item.done": (ev.output_item_done, (3, 0, MESSAGE)),
    "response.content_part.added": (ev.content_part, ("added", 4, "msg_1", 0, 0, TEXT_PART)),
    "response.content_part.done": (ev.content_part, ("done", 5, "msg_1", 0, 0, TEXT_PART)),
    "response.output_text.delta": (ev.output_text_delta, (6, "msg_1", 0, "Hi", LOGPROBS)),
    "response.output_text.done": (ev.output_text_done, (7, "msg_1", 0, "Hi", LOGPROBS)),
    "response.reasoning_text.delta": (ev.reasoning_text_delta, (8, "rs_1", 0, "hm")),
    "response.reasoning_text.done": (ev.reasoning_text_done, (9, "rs_1", 0, "hm")),
    "response.function_call_arguments.delta": (ev.arguments_delta, (10, "fc_1", 1, '{"a"')),
    "response.function_call_arguments.done": (ev.arguments_done, (11, "fc_1", 1, "f", "{}")),
    "error": (ev.error_event, (12, "boom", "server_error")),
}


@pytest.mark.parametrize("event_type", list(BUILDERS))
def test_a_builder_is_pure_and_its_event_valid(event_type: str) -> None:
    builder, args = BUILDERS[event_type]
    before = copy.deepcopy(args)
    first, second = builder(*args), builder(*args)
    assert first == second
    assert first is not second
    assert args == before  # inputs are not modified
    assert first["type"] == event_type
    seq = next(a for a in args if isinstance(a, int))  # the first int given is the number
    assert first["sequence_number"] == seq
    spec.validate_stream_event(first)


def test_sequence_numbers_and_indexes_are_passed_through() -> None:
    event = ev.output_text_delta(41, "msg_9", 3, "x", [])
    assert {k: event[k] for k in ("sequence_number", "item_id", "output_index")} == {
        "sequence_number": 41,
        "item_id": "msg_9",
        "output_index": 3,
    }
    assert event["content_index"] == 0
    part = ev.content_part("added", 7, "msg_9", 3, 2, TEXT_PART)
    assert (part["sequence_number"], part["content_index"], part["part"]) == (7, 2, TEXT_PART)


def test_response_events_carry_the_response_given() -> None:
    snapshot = response()
    event = ev.response_event("completed", 5, snapshot)
    assert event == {"type": "response.completed", "sequence_number": 5, "response": snapshot}


def test_items_and_parts_are_carried_as_given() -> None:
    assert ev.output_item_added(0, 2, CALL)["item"] == CALL
    assert ev.output_item_done(0, 2, CALL)["output_index"] == 2
    done = ev.arguments_done(0, "fc_1", 1, "f", '{"a": 1}')
    assert (done["name"], done["arguments"]) == ("f", '{"a": 1}')
    assert ev.arguments_delta(0, "fc_1", 1, '{"a"')["delta"] == '{"a"'


def test_text_events_carry_logprobs() -> None:
    assert ev.output_text_delta(0, "m", 0, "Hi", LOGPROBS)["logprobs"] == LOGPROBS
    done = ev.output_text_done(0, "m", 0, "Hi there", [])
    assert (done["text"], done["logprobs"]) == ("Hi there", [])
    assert ev.reasoning_text_done(0, "rs", 0, "hmm")["text"] == "hmm"


def test_the_error_event_has_both_shapes() -> None:
    event = ev.error_event(3, "boom", "server_error", "input")
    assert event["type"] == "error"
    assert (event["message"], event["code"], event["param"]) == ("boom", "server_error", "input")
    assert event["error"] == {
        "type": "server_error",
        "code": "server_error",
        "message": "boom",
        "param": "input",
    }
    typed = ev.error_event(0, "bad", None, error_type="invalid_request_error")
    assert typed["error"]["type"] == "invalid_request_error"
    assert typed["code"] is None
    spec.validate_stream_event(typed)
