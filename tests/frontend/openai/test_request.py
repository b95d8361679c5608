"""request.py: which model each JSON shape becomes, and the shapes that are refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from frontend.openai.request import (
    CreateResponse,
    FunctionCallItem,
    FunctionTool,
    MessageItem,
    OtherItem,
    OtherTool,
    ReasoningItem,
    ToolChoiceFunction,
    ToolChoiceOther,
)


def parse(**fields: Any) -> CreateResponse:
    return CreateResponse.model_validate({"model": "m", **fields})


def error_types(**fields: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        parse(**fields)
    return [(tuple(e["loc"]), e["type"]) for e in caught.value.errors()]


def test_input_items_by_type() -> None:
    body = parse(
        input=[
            {"role": "user", "content": "hi"},  # no type: a message
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "x"}],
            },
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "reasoning", "summary": []},
            {"type": "item_reference", "id": "msg_1"},
        ]
    )
    assert isinstance(body.input, list)
    kinds = [type(item) for item in body.input]
    assert kinds == [MessageItem, MessageItem, FunctionCallItem, ReasoningItem, OtherItem]


@pytest.mark.parametrize("item", [1, 1.5, None, True, "hi", [], [{"role": "user"}]])
def test_an_input_item_that_is_not_an_object_is_an_invalid_type(item: Any) -> None:
    errors = error_types(input=[item])
    # input is a string or a list: the string branch says so, the list branch names the item
    assert (("input", "str"), "string_type") in errors
    [(loc, kind)] = [e for e in errors if e[0][-1] == 0]
    assert kind == "invalid_type" and loc[0] == "input"


def test_models_validate_as_themselves() -> None:
    """Already-built items (not dicts) take their own branch of the unions."""
    body = CreateResponse(
        model="m",
        input=[MessageItem(role="user", content="hi"), OtherItem(type="item_reference")],
        tools=[FunctionTool(type="function", name="f"), OtherTool(type="web_search")],
        tool_choice=ToolChoiceFunction(type="function", name="f"),
    )
    assert isinstance(body.input, list)
    assert [type(item) for item in body.input] == [MessageItem, OtherItem]
    assert [type(tool) for tool in body.tools or []] == [FunctionTool, OtherTool]
    assert isinstance(body.tool_choice, ToolChoiceFunction)


def test_tools_by_type() -> None:
    body = parse(tools=[{"type": "function", "name": "f"}, {"type": "file_search"}])
    assert [type(tool) for tool in body.tools or []] == [FunctionTool, OtherTool]
    # without a type, a tool is taken for a function: its type is then missing
    assert error_types(tools=[{"name": "g"}]) == [
        (("tools", 0, "type=function", "type"), "missing")
    ]
    not_objects: tuple[Any, ...] = (1, None, "function", [{}])
    for tool in not_objects:
        assert error_types(tools=[tool]) == [(("tools", 0), "invalid_type")]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", str),
        ("none", str),
        ("required", str),
        ({"type": "function", "name": "f"}, ToolChoiceFunction),
        ({"type": "file_search"}, ToolChoiceOther),
        ({"type": "allowed_tools", "mode": "auto", "tools": []}, ToolChoiceOther),
        (None, type(None)),
    ],
)
def test_tool_choice_shapes(choice: Any, expected: type) -> None:
    assert isinstance(parse(tool_choice=choice).tool_choice, expected)


@pytest.mark.parametrize(
    ("choice", "loc", "kind"),
    [
        ({"type": "function"}, ("tool_choice", "type=function", "name"), "missing"),
        ({"type": "function", "name": 1}, ("tool_choice", "type=function", "name"), "string_type"),
        ("always", ("tool_choice", "mode"), "literal_error"),
        (1, ("tool_choice",), "invalid_type"),
        ([], ("tool_choice",), "invalid_type"),
        ({"type": 5}, ("tool_choice", "type=other", "type"), "string_type"),
    ],
)
def test_tool_choice_refusals(choice: Any, loc: tuple[str, ...], kind: str) -> None:
    assert error_types(tool_choice=choice) == [(loc, kind)]


def test_json_schema_format_needs_a_name() -> None:
    schema = {"type": "object"}
    fmt = parse(text={"format": {"type": "json_schema", "name": "out_1", "schema": schema}})
    assert fmt.text is not None and fmt.text.format is not None
    assert fmt.text.format.name == "out_1"
    assert error_types(text={"format": {"type": "json_schema", "schema": schema}}) == [
        (("text", "format", "name"), "missing")
    ]
    bad_names = ("a b", "", "x" * 65)
    for name in bad_names:
        fields = {"format": {"type": "json_schema", "name": name, "schema": schema}}
        assert error_types(text=fields)[0][0] == ("text", "format", "name")
    for kind in ("text", "json_object"):  # no name needed
        assert parse(text={"format": {"type": kind}}).text is not None


def test_safety_identifier_is_at_most_64_characters() -> None:
    assert parse(safety_identifier="s" * 64).safety_identifier == "s" * 64
    assert error_types(safety_identifier="s" * 65) == [(("safety_identifier",), "string_too_long")]


def test_a_namespace_holds_at_least_one_tool() -> None:
    # OpenAI's NamespaceToolParam: `tools` has minItems 1 (an empty one cannot be echoed)
    namespace = {"type": "namespace", "name": "crm"}
    assert error_types(tools=[{**namespace, "tools": []}]) == [
        (("tools", 0, "type=namespace", "tools"), "too_short")
    ]
    member = {"type": "function", "name": "lookup", "parameters": {}}
    assert len(parse(tools=[{**namespace, "tools": [member]}]).tools or []) == 1
