"""Tests of ``tests.spec``'s documents and body validators: spec loading, the OpenAPI ->
JSON Schema rewrite and its workarounds, and hand-written bodies that must pass or fail.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests import spec
from tests.spec import documents
from tests.spec.samples import fails, needs_spec, response

pytestmark = needs_spec


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


def test_response_with_only_openai_required_fields_passes_openai() -> None:
    body = {
        key: response()[key]
        for key in spec.schema("Response")["allOf"][2]["required"]  # the schema's own list
    }
    spec.validate(body, "Response")


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
    documents._to_json_schema(node, None)
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
