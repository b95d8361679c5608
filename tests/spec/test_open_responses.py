"""Tests of ``tests.spec``'s Open Responses checks: the document and its workarounds, and
bodies and stream events that must pass or fail it (while OpenAI's spec may accept them).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests import spec
from tests.spec import open_responses
from tests.spec.samples import (
    MSG_ID,
    RS_ID,
    fails,
    function_call,
    needs_spec,
    reasoning,
    response,
    text_stream,
)

pytestmark = [
    needs_spec,
    pytest.mark.skipif(
        not (spec.spec_dir() / spec.OPEN_RESPONSES_FILE).is_file(),
        reason=f"no {spec.OPEN_RESPONSES_FILE} in {spec.spec_dir()}",
    ),
]

_OR_REQUIRED: list[str] = [
    "id", "object", "created_at", "completed_at", "status", "incomplete_details", "model",
    "previous_response_id", "instructions", "output", "error", "tools", "tool_choice",
    "truncation", "parallel_tool_calls", "text", "top_p", "presence_penalty",
    "frequency_penalty", "top_logprobs", "temperature", "reasoning", "usage",
    "max_output_tokens", "max_tool_calls", "store", "background", "service_tier", "metadata",
    "safety_identifier", "prompt_cache_key",
]  # fmt: skip


# --------------------------------------------------------------------------- the document


def test_document_is_loaded_and_schema_returns_a_copy() -> None:
    got = spec.open_responses_schema("ResponseResource")
    assert got["required"] == _OR_REQUIRED
    got["required"].append("mutated")
    assert "mutated" not in spec.open_responses_schema("ResponseResource")["required"]
    with pytest.raises(KeyError):
        spec.validate_open_responses({}, "NoSuchSchema")


def test_event_table_comes_from_the_documents_stream_union() -> None:
    assert open_responses.event_schema("response.output_text.delta") == (
        "ResponseOutputTextDeltaStreamingEvent"
    )
    assert open_responses.event_schema("error") == "ErrorStreamingEvent"
    assert open_responses.event_schema("response.web_search_call.in_progress") is None
    assert len(open_responses.event_types()) == 24


# --------------------------------------------------------------------------- responses


@pytest.mark.parametrize("status", ["completed", "incomplete", "in_progress"])
def test_conformant_response_passes_both_specs(status: str) -> None:
    spec.validate_response(response(status))
    spec.validate_open_responses(response(status), "ResponseResource")


def test_response_with_reasoning_and_function_call_passes() -> None:
    spec.validate_response(response(output=[reasoning("Think."), function_call("{}")]))


def test_response_with_only_open_responses_required_fields_passes_it() -> None:
    body = {key: response()[key] for key in _OR_REQUIRED}
    spec.validate_open_responses(body, "ResponseResource")


def test_response_missing_presence_penalty_fails_open_responses_only() -> None:
    body = response()
    del body["presence_penalty"]
    spec.validate(body, "Response")  # OpenAI's Response does not list it
    message = fails(
        spec.validate_response,
        body,
        match=r"Open Responses spec:\n  at \$: 'presence_penalty' is a required property",
    )
    assert message.startswith("ResponseResource does not conform")


@pytest.mark.parametrize("field", _OR_REQUIRED)
def test_every_required_field_is_checked(field: str) -> None:
    body = response()
    del body[field]
    fails(spec.validate_response, body, match=f"'{field}' is a required property")


def test_null_where_not_set_is_not_absent() -> None:
    body = response("incomplete")
    assert body["completed_at"] is None
    spec.validate_response(body)
    del body["completed_at"]
    spec.validate(body, "Response")
    fails(spec.validate_response, body, match="'completed_at' is a required property")


def test_a_running_response_needs_a_usage_object() -> None:
    """Open Responses requires the key, OpenAI forbids null: only an object passes both."""
    body = response("in_progress")
    body["usage"] = None
    spec.validate_open_responses(body, "ResponseResource")
    fails(spec.validate_response, body, match=r"at \$\.usage: None is not of type 'object'")
    del body["usage"]
    spec.validate(body, "Response")
    fails(spec.validate_response, body, match="'usage' is a required property")


def test_wrong_types_fail_with_their_path() -> None:
    body = response()
    body["frequency_penalty"] = "none"
    fails(spec.validate_response, body, match=r"at \$\.frequency_penalty: 'none' is not of type")
    body = response()
    body["output"][0]["status"] = "done"
    fails(spec.validate_open_responses, body, "ResponseResource", match=r"\$\.output\[0\]")


# --------------------------------------------------------------------------- workarounds


def _json_schema_format(**changes: Any) -> dict[str, Any]:
    fmt: dict[str, Any] = {
        "type": "json_schema",
        "name": "capital",
        "description": "",
        "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": False,
    }
    fmt.update(changes)
    return fmt


def test_json_schema_format_may_carry_its_schema() -> None:
    assert spec.open_responses_schema("JsonSchemaResponseFormat")["properties"]["schema"] == {
        "anyOf": [{"type": "object"}, {"type": "null"}]
    }
    body = response()
    body["text"]["format"] = _json_schema_format()
    spec.validate_response(body)


def test_json_schema_format_needs_description_and_a_boolean_strict() -> None:
    body = response()
    body["text"]["format"] = _json_schema_format()
    del body["text"]["format"]["description"]
    spec.validate(body, "Response")
    fails(spec.validate_response, body, match="'description' is a required property")
    body["text"]["format"] = _json_schema_format(strict=None)
    spec.validate(body, "Response")
    fails(spec.validate_response, body, match=r"None is not of type 'boolean'")


def test_reasoning_text_events_use_openais_current_names() -> None:
    where = {"item_id": RS_ID, "output_index": 0, "content_index": 0, "sequence_number": 3}
    spec.validate_stream_event({"type": "response.reasoning_text.delta", **where, "delta": "a"})
    spec.validate_stream_event({"type": "response.reasoning_text.done", **where, "text": "a"})
    assert open_responses.event_schema("response.reasoning.delta") is None
    bad = {"type": "response.reasoning_text.delta", **where, "delta": 1}
    fails(spec.validate_open_responses_stream_event, bad, match=r"at \$\.delta: 1 is not of type")


# --------------------------------------------------------------------------- stream events


def test_every_event_of_a_text_stream_passes_open_responses() -> None:
    for event in text_stream():
        spec.validate_open_responses_stream_event(event)


def test_event_snapshot_missing_a_field_fails_the_sequence() -> None:
    events = text_stream()
    del events[0]["response"]["frequency_penalty"]
    fails(
        spec.validate_event_sequence,
        events,
        match=r"event #0: ResponseCreatedStreamingEvent .* Open Responses spec:\n"
        r"  at \$\.response: 'frequency_penalty' is a required property",
    )


def test_error_event_needs_both_shapes() -> None:
    payload = {"code": "server_error", "message": "boom", "param": None}
    both: dict[str, Any] = {
        "type": "error",
        "sequence_number": 5,
        **payload,
        "error": {"type": "server_error", **payload},
    }
    spec.validate_stream_event(both)
    flat = {k: v for k, v in both.items() if k != "error"}
    spec.validate_openai_stream_event(flat)
    fails(spec.validate_stream_event, flat, match=r"at \$: 'error' is a required property")
    nested = {"type": "error", "sequence_number": 5, "error": both["error"]}
    spec.validate_open_responses_stream_event(nested)
    fails(spec.validate_stream_event, nested, match="lacks required field")
    untyped = copy.deepcopy(both)
    del untyped["error"]["type"]
    fails(spec.validate_stream_event, untyped, match=r"at \$\.error: 'type' is a required")


def test_events_open_responses_does_not_define_fail() -> None:
    event = {
        "type": "response.web_search_call.in_progress",
        "item_id": "ws_1",
        "output_index": 0,
        "sequence_number": 4,
    }
    spec.validate_openai_stream_event(event)
    fails(
        spec.validate_stream_event,
        event,
        match="'response.web_search_call.in_progress' is not an Open Responses event",
    )


def test_output_item_added_item_is_checked() -> None:
    event = text_stream()[2]
    assert event["item"]["id"] == MSG_ID
    del event["item"]["status"]
    fails(spec.validate_open_responses_stream_event, event, match=r"\$\.item")


# --------------------------------------------------------------------------- error bodies


def test_error_body_is_checked_against_the_error_payload() -> None:
    body: dict[str, Any] = {
        "error": {
            "message": "The model `nope` does not exist.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    spec.validate_error(body)
    body["error"]["headers"] = {"retry-after": 5}
    spec.validate(body, "ErrorResponse")
    fails(spec.validate_error, body, match=r"at \$\.error\.headers\[.retry-after.\]: 5 is not of")
