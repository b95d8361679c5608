"""Tests of tests/spec.py: hand-written bodies and streams that must pass or fail."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests import spec

pytestmark = pytest.mark.skipif(
    not (spec.spec_dir() / spec.OPENAPI_FILE).is_file(),
    reason=f"no OpenAPI spec in {spec.spec_dir()} (set {spec.SPEC_DIR_ENV})",
)

RESP_ID = "resp_0123456789abcdef"
MSG_ID = "msg_0123456789abcdef"
FC_ID = "fc_0123456789abcdef"
RS_ID = "rs_0123456789abcdef"


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message(text: str, status: str = "completed") -> dict[str, Any]:
    content = [output_text(text)] if status == "completed" else []
    return {
        "type": "message",
        "id": MSG_ID,
        "role": "assistant",
        "status": status,
        "content": content,
    }


def response(status: str = "completed", output: list[Any] | None = None) -> dict[str, Any]:
    """A minimal complete Response, with usage and the commonly echoed request fields."""
    done = status in ("completed", "incomplete", "failed")
    body: dict[str, Any] = {
        "id": RESP_ID,
        "object": "response",
        "created_at": 1_760_000_000,
        "status": status,
        "completed_at": 1_760_000_001 if status == "completed" else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": "qwen3-0.6b",
        "output": [message("Hello!")] if output is None else output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "metadata": {},
    }
    # The spec types `usage` as a ResponseUsage object (not nullable) and `user` as a
    # string: while the response runs there is no usage, so the key is left out.
    if done:
        body["usage"] = {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 7,
        }
    return body


def text_stream(deltas: tuple[str, ...] = ("Hel", "lo!")) -> list[dict[str, Any]]:
    """The event stream of a short text answer, numbered from 0."""
    text = "".join(deltas)
    where = {"item_id": MSG_ID, "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response("in_progress", [])},
        {"type": "response.in_progress", "response": response("in_progress", [])},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": message("", status="in_progress"),
        },
        {"type": "response.content_part.added", **where, "part": output_text("")},
        *(
            {"type": "response.output_text.delta", **where, "delta": d, "logprobs": []}
            for d in deltas
        ),
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": output_text(text)},
        {"type": "response.output_item.done", "output_index": 0, "item": message(text)},
        {"type": "response.completed", "response": response("completed", [message(text)])},
    ]
    return renumber(events)


def renumber(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def function_call(arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": FC_ID,
        "call_id": "call_abc",
        "name": "get_weather",
        "arguments": arguments,
        "status": status,
    }


def reasoning(text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "reasoning_text", "text": text}] if text else []
    return {"type": "reasoning", "id": RS_ID, "summary": [], "content": content, "status": status}


def tool_stream() -> list[dict[str, Any]]:
    """Reasoning, then a function call: the stream of a tool-calling turn."""
    args = '{"city": "Paris"}'
    final = [reasoning("Use the tool."), function_call(args)]
    rs = {"item_id": RS_ID, "output_index": 0, "content_index": 0}
    fc = {"item_id": FC_ID, "output_index": 1}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response("in_progress", [])},
        {"type": "response.in_progress", "response": response("in_progress", [])},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": reasoning("", "in_progress"),
        },
        {"type": "response.reasoning_text.delta", **rs, "delta": "Use the "},
        {"type": "response.reasoning_text.delta", **rs, "delta": "tool."},
        {"type": "response.reasoning_text.done", **rs, "text": "Use the tool."},
        {"type": "response.output_item.done", "output_index": 0, "item": final[0]},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": function_call("", "in_progress"),
        },
        {"type": "response.function_call_arguments.delta", **fc, "delta": '{"city": '},
        {"type": "response.function_call_arguments.delta", **fc, "delta": '"Paris"}'},
        {
            "type": "response.function_call_arguments.done",
            **fc,
            "name": "get_weather",
            "arguments": args,
        },
        {"type": "response.output_item.done", "output_index": 1, "item": final[1]},
        {"type": "response.completed", "response": response("completed", final)},
    ]
    return renumber(events)


def fails(check: Any, *args: Any, match: str) -> str:
    with pytest.raises(AssertionError, match=match) as info:
        check(*args)
    return str(info.value)


# --------------------------------------------------------------------------- loading


def test_spec_dir_is_beside_the_repo_and_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(spec.SPEC_DIR_ENV, raising=False)
    assert spec.spec_dir().parts[-2:] == ("shared", "spec")
    monkeypatch.setenv(spec.SPEC_DIR_ENV, "/somewhere/else")
    assert str(spec.spec_dir()) == "/somewhere/else"


def test_schema_returns_a_copy_and_rejects_unknown_names() -> None:
    got = spec.schema("ErrorResponse")
    assert got["required"] == ["error"]
    got["required"].append("mutated")
    assert spec.schema("ErrorResponse")["required"] == ["error"]
    with pytest.raises(KeyError):
        spec.schema("NoSuchSchema")
    with pytest.raises(KeyError):
        spec.validate({}, "NoSuchSchema")


def test_stream_event_table_is_loaded() -> None:
    assert spec.stream_event_info("response.output_text.delta")["spec_schema"] == (
        "ResponseTextDeltaEvent"
    )
    assert spec.legacy_event_names()["response.reasoning.delta"] == "response.reasoning_text.delta"


# --------------------------------------------------------------------------- bodies


def test_minimal_complete_response_passes() -> None:
    spec.validate_response(response())


def test_response_with_only_required_fields_passes() -> None:
    body = {
        key: response()[key]
        for key in spec.schema("Response")["allOf"][2]["required"]  # the schema's own list
    }
    spec.validate_response(body)


def test_response_missing_required_field_fails() -> None:
    body = response()
    del body["tool_choice"]
    message_text = fails(spec.validate_response, body, match="tool_choice")
    assert "at $:" in message_text


def test_response_wrong_types_fail_with_path() -> None:
    body = response()
    body["temperature"] = "hot"
    fails(spec.validate_response, body, match=r"at \$\.temperature: 'hot' is not of type")
    body = response()
    body["object"] = "chat.completion"
    fails(spec.validate_response, body, match=r"at \$\.object: 'chat.completion' is not one of")
    body = response()
    body["status"] = "done"
    fails(spec.validate_response, body, match=r"\$\.status")


def test_usage_and_user_are_not_nullable_in_the_spec() -> None:
    body = response()
    body["usage"] = None
    fails(spec.validate_response, body, match=r"at \$\.usage: None is not of type 'object'")
    body = response()
    body["user"] = None
    fails(spec.validate_response, body, match=r"at \$\.user: None is not of type 'string'")


def test_output_text_part_needs_logprobs_and_annotations() -> None:
    body = response()
    del body["output"][0]["content"][0]["logprobs"]
    fails(
        spec.validate_response,
        body,
        match=r"at \$\.output\[0\]\.content\[0\]: 'logprobs' is a required property",
    )


def test_unknown_output_item_type_names_the_discriminator() -> None:
    body = response()
    body["output"][0]["type"] = "assistant_message"
    fails(spec.validate_response, body, match=r"\$\.output\[0\]: type='assistant_message'")


def test_usage_details_are_required() -> None:
    body = response()
    del body["usage"]["output_tokens_details"]
    fails(spec.validate_response, body, match=r"\$\.usage: 'output_tokens_details'")


def test_error_response_passes_and_needs_nullable_code_and_param() -> None:
    body = {
        "error": {
            "message": "The model `nope` does not exist.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    spec.validate_error(body)
    spec.validate_error({"error": {**body["error"], "param": None, "code": None}})
    short = copy.deepcopy(body)
    del short["error"]["param"]
    fails(spec.validate_error, short, match=r"at \$\.error: 'param' is a required property")
    fails(spec.validate_error, {"detail": "x"}, match="'error' is a required property")


def test_models_list_passes_and_fails() -> None:
    body: dict[str, Any] = {
        "object": "list",
        "data": [
            {"id": "qwen3-0.6b", "object": "model", "created": 1_760_000_000, "owned_by": "x"}
        ],
    }
    spec.validate_models_list(body)
    bad = copy.deepcopy(body)
    bad["data"][0]["created"] = "yesterday"
    fails(spec.validate_models_list, bad, match=r"at \$\.data\[0\]\.created: 'yesterday'")


# --------------------------------------------------------------------------- spec workarounds


def test_nullable_keyword_becomes_a_null_type() -> None:
    node: dict[str, Any] = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "nullable": True, "enum": ["x"]},
            "b": {"$ref": "#/x", "nullable": True},
        },
    }
    spec._to_json_schema(node, None)
    assert node["properties"]["a"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert node["properties"]["b"] == {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}


def test_recursive_compound_filter_validates() -> None:
    nested: dict[str, Any] = {
        "type": "and",
        "filters": [
            {"type": "eq", "key": "lang", "value": "fr"},
            {"type": "or", "filters": [{"type": "gt", "key": "year", "value": 2000}]},
        ],
    }
    spec.validate(nested, "CompoundFilter")
    nested["filters"][1]["filters"][0]["type"] = "about"
    with pytest.raises(AssertionError):
        spec.validate(nested, "CompoundFilter")


def test_create_response_with_typed_user_message_validates() -> None:
    request = {
        "model": "qwen3-0.6b",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"role": "developer", "content": "Be brief."},
            {"type": "function_call_output", "call_id": "call_abc", "output": "18C"},
        ],
        "stream": True,
    }
    spec.validate(request, "CreateResponse")


# --------------------------------------------------------------------------- single events


def test_every_event_of_a_text_stream_is_valid() -> None:
    for event in text_stream():
        spec.validate_stream_event(event)


def test_unknown_event_type_fails() -> None:
    fails(
        spec.validate_stream_event,
        {"type": "response.output_text.chunk", "sequence_number": 0},
        match="unknown stream event type 'response.output_text.chunk'",
    )


def test_legacy_event_name_fails_and_names_its_successor() -> None:
    event = {
        "type": "response.reasoning.delta",
        "item_id": RS_ID,
        "output_index": 0,
        "content_index": 0,
        "delta": "x",
        "sequence_number": 3,
    }
    fails(spec.validate_stream_event, event, match="legacy.*response.reasoning_text.delta")


def test_event_missing_required_field_fails() -> None:
    event = text_stream()[4]
    assert event["type"] == "response.output_text.delta"
    del event["logprobs"]
    fails(spec.validate_stream_event, event, match=r"lacks required field\(s\) \['logprobs'\]")


def test_event_with_wrong_field_type_fails() -> None:
    event = text_stream()[4]
    event["output_index"] = "0"
    fails(spec.validate_stream_event, event, match=r"at \$\.output_index: '0' is not of type")


def test_event_carrying_an_invalid_response_fails() -> None:
    event = text_stream()[-1]
    del event["response"]["output"][0]["content"][0]["annotations"]
    fails(spec.validate_stream_event, event, match=r"\$\.response\.output\[0\]\.content\[0\]")


def test_error_event_requires_code_and_param() -> None:
    ok = {"type": "error", "code": None, "message": "boom", "param": None, "sequence_number": 5}
    spec.validate_stream_event(ok)
    partial = {"type": "error", "message": "boom", "sequence_number": 5}
    fails(spec.validate_stream_event, partial, match=r"\['code', 'param'\]")


def test_event_without_a_spec_schema_checks_the_sdk_fields() -> None:
    event = {"type": "response.compaction.compacting", "item_id": "cmp_1", "output_index": 0}
    fails(spec.validate_stream_event, event, match=r"\['sequence_number'\]")
    spec.validate_stream_event({**event, "sequence_number": 2})


# --------------------------------------------------------------------------- sequences


def test_text_stream_passes() -> None:
    spec.validate_event_sequence(text_stream())


def test_tool_and_reasoning_stream_passes() -> None:
    spec.validate_event_sequence(tool_stream())


def test_sequence_survives_a_json_round_trip() -> None:
    spec.validate_event_sequence(json.loads(json.dumps(text_stream())))


def test_bad_sequence_number_fails() -> None:
    events = text_stream()
    events[3]["sequence_number"] = 4
    fails(spec.validate_event_sequence, events, match="sequence_number is 4, expected 3")
    events = text_stream()
    events[0]["sequence_number"] = 1
    fails(spec.validate_event_sequence, events, match="sequence_number is 1, expected 0")


def test_invalid_event_inside_a_sequence_fails_with_its_index() -> None:
    events = text_stream()
    events[4]["type"] = "response.output_text.chunk"
    fails(spec.validate_event_sequence, events, match="event #4: unknown stream event type")


def test_first_second_and_last_events_are_fixed() -> None:
    events = renumber(text_stream()[1:])
    fails(spec.validate_event_sequence, events, match="first event must be response.created")
    events = text_stream()
    del events[1]
    fails(spec.validate_event_sequence, renumber(events), match="second event")
    events = renumber(text_stream()[:-1])
    fails(spec.validate_event_sequence, events, match="last event must be one of")
    fails(spec.validate_event_sequence, [], match="empty")


def test_terminal_status_must_match_the_event() -> None:
    events = text_stream()
    events[-1]["type"] = "response.incomplete"
    fails(spec.validate_event_sequence, events, match="response.status is 'completed'")


def test_incomplete_stream_passes() -> None:
    events = text_stream()
    final = events[-1]
    final["type"] = "response.incomplete"
    final["response"]["status"] = "incomplete"
    final["response"]["completed_at"] = None
    final["response"]["incomplete_details"] = {"reason": "max_output_tokens"}
    spec.validate_event_sequence(events)


def test_delta_before_its_item_or_part_fails() -> None:
    events = text_stream()
    delta = events.pop(4)
    events.insert(2, delta)
    fails(spec.validate_event_sequence, renumber(events), match="names no added item")
    events = text_stream()
    delta = events.pop(4)
    events.insert(3, delta)
    fails(spec.validate_event_sequence, renumber(events), match="was never added")


def test_wrong_item_id_fails() -> None:
    events = text_stream()
    events[5]["item_id"] = "msg_other"
    fails(spec.validate_event_sequence, events, match="item_id 'msg_other' is not the id")


def test_wrong_content_index_fails() -> None:
    events = text_stream()
    events[4]["content_index"] = 1
    fails(spec.validate_event_sequence, events, match="content_index 1 .* was never added")


def test_done_text_must_equal_the_deltas() -> None:
    events = text_stream()
    events[6]["text"] = "Hello?"
    fails(spec.validate_event_sequence, events, match="differs from the concatenated deltas")


def test_added_item_without_done_fails() -> None:
    events = text_stream()
    del events[-2]
    events[-1]["response"]["output"] = []
    fails(spec.validate_event_sequence, renumber(events), match="never done")


def test_final_output_must_equal_the_done_items() -> None:
    events = text_stream()
    events[-1]["response"]["output"] = []
    fails(spec.validate_event_sequence, events, match="differs from the 1 output_item.done")
    events = tool_stream()
    final_output = events[-1]["response"]["output"]
    final_output.reverse()
    fails(spec.validate_event_sequence, events, match="differs from the 2 output_item.done")


def test_output_indexes_must_count_up() -> None:
    events = tool_stream()
    events[7]["output_index"] = 2
    fails(spec.validate_event_sequence, events, match="output_index 2, expected 1")


def test_function_arguments_must_match() -> None:
    events = tool_stream()
    events[11]["item"]["arguments"] = "{}"
    events[-1]["response"]["output"][1]["arguments"] = "{}"
    fails(spec.validate_event_sequence, events, match="item.arguments differs")


def test_event_after_item_done_fails() -> None:
    events = tool_stream()
    late = copy.deepcopy(events[3])
    events.insert(7, late)
    fails(spec.validate_event_sequence, renumber(events), match="already done")
