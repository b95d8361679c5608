"""parse.py in-process: a JSON body becomes a wire model or one error that names the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from frontend.errors import InvalidRequest
from frontend.openai.parse import (
    MAX_DEPTH,
    check_json,
    format_param,
    json_type,
    param_path,
    parse_body,
)
from frontend.openai.request import CreateResponse


def refused(body: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse_body(CreateResponse, body)
    error = caught.value
    assert error.status == 400 and error.message
    return error


# --- paths -------------------------------------------------------------------------------


def test_format_param() -> None:
    assert format_param(()) == ""
    assert (
        format_param(("tools", 0, "parameters", "properties")) == "tools[0].parameters.properties"
    )
    assert format_param(("input", 2, "content", 0)) == "input[2].content[0]"
    assert format_param(("metadata", "a.b")) == "metadata.a.b"


@pytest.mark.parametrize(
    ("loc", "body", "path"),
    [
        # union labels (a discriminator's tag, pydantic's type names) are not in the body
        (
            ("input", "list[...]", 0, "type=message", "role"),
            {"input": [{"role": "robot"}]},
            "input[0].role",
        ),
        (("input", "str"), {"input": 5}, "input"),
        (("stop", "list[str]", 1), {"stop": ["a", 2]}, "stop[1]"),
        (("tool_choice", "mode"), {"tool_choice": "x"}, "tool_choice"),
        # a key that reads like a label is still a key
        (("metadata", "str"), {"metadata": {"str": 1}}, "metadata.str"),
        # a `function` key inside a tool whose tag is "type=function"
        (
            ("tools", 0, "type=function", "function"),
            {"tools": [{"type": "function", "function": {}}]},
            "tools[0].function",
        ),
        # an index past the end of the list is not the body's
        (("input", 5), {"input": [1]}, "input"),
        (("a", "b", "c"), {"a": {"b": {"c": 1}}}, "a.b.c"),
        ((), {}, ""),
    ],
)
def test_param_path_follows_the_body(loc: tuple[int | str, ...], body: Any, path: str) -> None:
    assert param_path(loc, body) == path


def test_param_path_names_the_missing_field() -> None:
    loc = ("input", "list[...]", 0, "type=function_call", "call_id")
    body = {"input": [{"type": "function_call"}]}
    assert param_path(loc, body, missing=True) == "input[0].call_id"
    assert (
        param_path(loc, body) == "input[0]"
    )  # not missing: a last part not in the body is a label


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "a boolean"),
        (1, "an integer"),
        (1.5, "a number"),
        ("x", "a string"),
        ([], "an array"),
        ({}, "an object"),
    ],
)
def test_json_type(value: Any, name: str) -> None:
    assert json_type(value) == name


# --- the body as a whole -----------------------------------------------------------------


@pytest.mark.parametrize("body", [None, [], [1, 2], "x", 1, 1.5, True])
def test_a_body_that_is_not_an_object(body: Any) -> None:
    error = refused(body)
    assert error.param is None
    assert error.code == "invalid_type"
    assert error.message.startswith("The request body must be a JSON object")


# --- JSON values no later layer can carry ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "reason"),
    [
        ({"model": "m", "temperature": float("nan")}, "temperature", "NaN"),
        ({"model": "m", "top_p": float("inf")}, "top_p", "Infinity"),
        ({"model": "m", "metadata": {"a": float("-inf")}}, "metadata.a", "-Infinity"),
        (
            {
                "model": "m",
                "tools": [
                    {"type": "function", "name": "f", "parameters": {"a": [0.5, float("nan")]}}
                ],
            },
            "tools[0].parameters.a[1]",
            "NaN",
        ),
        (
            {
                "model": "m",
                "text": {"format": {"type": "json_schema", "schema": {"max": float("inf")}}},
            },
            "text.format.schema.max",
            "Infinity",
        ),
        (
            {"model": "m", "chat_template_kwargs": {"x": float("nan")}},
            "chat_template_kwargs.x",
            "NaN",
        ),
        ({"model": "m", "max_output_tokens": 2**63}, "max_output_tokens", "64 bits"),
        ({"model": "m", "seed": -(2**63) - 1}, "seed", "64 bits"),
        ({"model": "m", "top_k": 10**400}, "top_k", "64 bits"),
        ({"model": "m", "priority": 10**30}, "priority", "64 bits"),
        ({"model": "m", "seed": 1e20}, "seed", "64 bits"),  # pydantic makes floats integers
        ({"model": "m", "max_output_tokens": 1e300}, "max_output_tokens", "64 bits"),
        (
            {
                "model": "m",
                "tools": [{"type": "function", "name": "f", "parameters": {"maxItems": 2**64}}],
            },
            "tools[0].parameters.maxItems",
            "64 bits",
        ),
        ({"model": "m", "input": "\ud800"}, "input", "Unicode"),
        ({"model": "\udfff"}, "model", "Unicode"),
        (
            {
                "model": "m",
                "input": [{"role": "user", "content": [{"type": "input_text", "text": "a\ud83d"}]}],
            },
            "input[0].content[0].text",
            "Unicode",
        ),
        ({"model": "m", "metadata": {"k": "\ud800"}}, "metadata.k", "Unicode"),
    ],
)
def test_values_no_layer_can_carry_are_named(body: dict[str, Any], param: str, reason: str) -> None:
    error = refused(body)
    assert (error.param, error.code) == (param, "invalid_value")
    assert reason in error.message
    assert error.message.startswith(f"Invalid value for '{param}'")


def test_a_key_that_is_not_unicode_names_its_object() -> None:
    error = refused({"model": "m", "metadata": {"\ud800": "v"}})
    assert error.param == "metadata"
    assert error.message.startswith("Invalid key in 'metadata'")
    top = refused({"model": "m", "\ud800": 1})
    assert top.param is None


def test_what_every_layer_can_carry_passes() -> None:
    body = {
        "model": "m",
        "input": "héllo 👋 \u0000 ✓",
        "seed": 2**63 - 1,
        "priority": -(2**63),
        "temperature": 0.0,
        "metadata": {"ключ": "значение"},
        "chat_template_kwargs": {"big": 2**63 - 1, "neg": -1e308, "tiny": 5e-324},
    }
    check_json(body)
    parsed = parse_body(CreateResponse, body)
    assert parsed.seed == 2**63 - 1


def nested(levels: int) -> dict[str, Any]:
    """A body whose objects and arrays nest `levels` deep, the body itself included."""
    value: Any = []
    for _ in range(levels - 3):
        value = [value]
    return {"model": "m", "chat_template_kwargs": {"a": value}}


def test_nesting_is_capped() -> None:
    assert json.dumps(nested(3)) == '{"model": "m", "chat_template_kwargs": {"a": []}}'
    parse_body(CreateResponse, nested(MAX_DEPTH))
    error = refused(nested(MAX_DEPTH + 1))
    assert error.param == "chat_template_kwargs"  # the top-level field, not a 64-part path
    assert f"more than {MAX_DEPTH} levels" in error.message
    assert refused(nested(900)).param == "chat_template_kwargs"


# --- the wire model's errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        (
            {"input": "hi"},
            "model",
            "missing_required_parameter",
            "Missing required parameter: 'model'.",
        ),
        ({"model": "m", "bogus": 1}, "bogus", "unknown_parameter", "Unknown parameter: 'bogus'."),
        (
            {"model": "m", "input": [1]},
            "input[0]",
            "invalid_type",
            "Invalid type for 'input[0]': expected an object, but got an integer instead.",
        ),
        (
            {"model": "m", "input": [None]},
            "input[0]",
            "invalid_type",
            "Invalid type for 'input[0]': expected an object, but got null instead.",
        ),
        (
            {"model": "m", "input": ["hi", {"role": "user", "content": "x"}]},
            "input[0]",
            "invalid_type",
            "Invalid type for 'input[0]': expected an object, but got a string instead.",
        ),
        (
            {"model": "m", "input": [{"role": "user", "content": "x"}, [1]]},
            "input[1]",
            "invalid_type",
            "Invalid type for 'input[1]': expected an object, but got an array instead.",
        ),
        (
            {"model": "m", "input": 5},
            "input",
            "invalid_type",
            "Invalid type for 'input': expected a string or an array, but got an integer instead.",
        ),
        (
            {"model": "m", "input": [{"role": "user", "content": [1]}]},
            "input[0].content[0]",
            "invalid_type",
            None,
        ),
        (
            {
                "model": "m",
                "input": [{"role": "user", "content": [{"type": "input_text", "text": 5}]}],
            },
            "input[0].content[0].text",
            "invalid_type",
            None,
        ),
        (
            {"model": "m", "input": [{"role": "robot", "content": "x"}]},
            "input[0].role",
            "invalid_value",
            None,
        ),
        (
            {"model": "m", "input": [{"type": "function_call", "name": "f"}]},
            "input[0].call_id",
            "missing_required_parameter",
            None,
        ),
        ({"model": "m", "input": [{"type": 1}]}, "input[0].type", "invalid_type", None),
        ({"model": "m", "input": [{"type": ["message"]}]}, "input[0].type", "invalid_type", None),
        ({"model": "m", "tools": [1]}, "tools[0]", "invalid_type", None),
        ({"model": "m", "tools": [None]}, "tools[0]", "invalid_type", None),
        ({"model": "m", "tools": [{"type": {}}]}, "tools[0].type", "invalid_type", None),
        (
            {"model": "m", "tools": [{"type": "function", "name": "a b"}]},
            "tools[0].name",
            "invalid_value",
            None,
        ),
        ({"model": "m", "tools": {"type": "function"}}, "tools", "invalid_type", None),
        (
            {"model": "m", "tool_choice": 1},
            "tool_choice",
            "invalid_type",
            "Invalid type for 'tool_choice': expected a string or an object, "
            "but got an integer instead.",
        ),
        ({"model": "m", "tool_choice": "always"}, "tool_choice", "invalid_value", None),
        (
            {"model": "m", "tool_choice": {"type": "function"}},
            "tool_choice.name",
            "missing_required_parameter",
            None,
        ),
        ({"model": "m", "text": {"format": 1}}, "text.format", "invalid_type", None),
        (
            {"model": "m", "text": {"format": {"type": "xml"}}},
            "text.format.type",
            "invalid_value",
            None,
        ),
        (
            {"model": "m", "text": {"format": {"type": "json_schema", "schema": {}}}},
            "text.format.name",
            "missing_required_parameter",
            None,
        ),
        ({"model": "m", "include": [1]}, "include[0]", "invalid_type", None),
        ({"model": "m", "include": "x"}, "include", "invalid_type", None),
        (
            {"model": "m", "metadata": {"a": 1}},
            "metadata.a",
            "invalid_type",
            "Invalid type for 'metadata.a': expected a string, but got an integer instead.",
        ),
        ({"model": "m", "metadata": {"a": None}}, "metadata.a", "invalid_type", None),
        ({"model": "m", "metadata": {"k": "v" * 513}}, "metadata", "invalid_value", None),
        ({"model": "m", "metadata": []}, "metadata", "invalid_type", None),
        ({"model": "m", "stop": [1]}, "stop[0]", "invalid_type", None),
        ({"model": "m", "temperature": "hot"}, "temperature", "invalid_type", None),
        ({"model": "m", "temperature": 2.5}, "temperature", "invalid_value", None),
        ({"model": "m", "reasoning": {"effort": 1}}, "reasoning.effort", "invalid_value", None),
        ({"model": "m", "reasoning": {"bogus": 1}}, "reasoning.bogus", "unknown_parameter", None),
        ({"model": "m", "stream_options": 3}, "stream_options", "invalid_type", None),
        ({"model": "m", "safety_identifier": "s" * 65}, "safety_identifier", "invalid_value", None),
    ],
)
def test_errors_name_the_field(
    body: dict[str, Any], param: str, code: str, message: str | None
) -> None:
    error = refused(body)
    assert (error.param, error.code) == (param, code)
    assert f"'{param}'" in error.message
    if message is not None:
        assert error.message == message


@pytest.mark.parametrize(
    ("field", "value", "expected", "got"),
    [
        # OpenAI's types are JSON's: no string, number or boolean stands in for another
        ("stream", "true", "a boolean", "a string"),
        ("stream", 1, "a boolean", "an integer"),
        ("store", "no", "a boolean", "a string"),
        ("temperature", "0.5", "a number", "a string"),
        ("max_output_tokens", "16", "an integer", "a string"),
        ("max_output_tokens", True, "an integer", "a boolean"),
        ("max_output_tokens", 16.5, "an integer", "a number"),
        ("top_logprobs", [2], "an integer", "an array"),
    ],
)
def test_json_types_are_not_coerced(field: str, value: Any, expected: str, got: str) -> None:
    error = refused({"model": "m", "input": "hi", field: value})
    assert (error.param, error.code) == (field, "invalid_type")
    assert error.message == (
        f"Invalid type for '{field}': expected {expected}, but got {got} instead."
    )


def test_nested_json_types_are_not_coerced() -> None:
    tool = {"type": "function", "name": "f", "parameters": {}, "strict": "true"}
    error = refused({"model": "m", "tools": [tool]})
    assert (error.param, error.code) == ("tools[0].strict", "invalid_type")
    # an integer is a JSON number: it stands for a float, as in OpenAI's API
    assert parse_body(CreateResponse, {"model": "m", "temperature": 1}).temperature == 1
    # and a number without a fraction is an integer (JSON does not tell 16 from 16.0)
    body = parse_body(CreateResponse, {"model": "m", "max_output_tokens": 16.0, "top_k": 2.0})
    assert (body.max_output_tokens, body.top_k) == (16, 2)
    assert isinstance(body.max_output_tokens, int) and isinstance(body.top_k, int)
