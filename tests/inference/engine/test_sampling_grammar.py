"""sampling.structured for a named custom tool with a grammar: the engine's own lark or
regex structured outputs, instead of the tool's JSON wrapper."""

from __future__ import annotations

import pytest

from inference.protocol import ChatMessage, GenerateRequest, Grammar, Role, Tool, ToolChoice

sampling = pytest.importorskip("inference.engine.sampling")


def request(grammar: Grammar | None) -> GenerateRequest:
    return GenerateRequest(
        request_id="r",
        messages=[ChatMessage(role=Role.USER, content="hi")],
        tools=[Tool(name="apply_patch", parameters={"type": "object"})],
        tool_choice=ToolChoice.FUNCTION,
        tool_name="apply_patch",
        grammar=grammar,
    )


def test_a_lark_grammar_is_the_engines_grammar() -> None:
    params = sampling.structured(request(Grammar(syntax="lark", definition='start: "a"')))
    assert params is not None and params.grammar == 'start: "a"' and params.json is None


def test_a_regex_is_the_engines_regex() -> None:
    params = sampling.structured(request(Grammar(syntax="regex", definition="a+")))
    assert params is not None and params.regex == "a+"


def test_without_a_grammar_the_arguments_follow_the_json_schema() -> None:
    params = sampling.structured(request(None))
    assert params is not None and params.json == {"type": "object"}
