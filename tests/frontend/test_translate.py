"""translate.py in-process: OpenAI request fields to protocol fields, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest

from frontend import translate
from frontend.errors import APIError, InvalidRequest, Unsupported
from frontend.openai.request import CreateResponse
from inference.protocol import ChatMessage, Handshake, Role, ToolCall, ToolChoice
from tests.frontend.scripted import make_handshake

HANDSHAKE = make_handshake()
NO_PARSERS = make_handshake(tool_call_parser=None, reasoning_parser=None)
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": True,
}


def body(**fields: Any) -> CreateResponse:
    return CreateResponse.model_validate({"model": "m", **fields})


def generate(handshake: Handshake = HANDSHAKE, **fields: Any) -> Any:
    request = body(**fields)
    conversation = translate.input_messages(request)
    return translate.generate_request(
        request, conversation, request_id="resp_1", handshake=handshake
    )


def refused(error: type[APIError], call: Any) -> APIError:
    with pytest.raises(error) as caught:
        call()
    return caught.value


# --- input -------------------------------------------------------------------------------


def test_a_string_input_is_one_user_message() -> None:
    assert translate.input_messages(body(input="Hi!")) == [
        ChatMessage(role=Role.USER, content="Hi!")
    ]


def test_messages_keep_their_roles_and_developer_is_system() -> None:
    messages = translate.input_messages(
        body(
            input=[
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": "Use French."},
                {"role": "user", "content": "Hello"},
                {"type": "message", "role": "assistant", "content": "Bonjour"},
            ]
        )
    )
    assert [m.role for m in messages] == [Role.SYSTEM, Role.SYSTEM, Role.USER, Role.ASSISTANT]
    assert all(isinstance(m.role, Role) for m in messages)
    assert [m.content for m in messages] == ["Be brief.", "Use French.", "Hello", "Bonjour"]


def test_text_parts_are_joined_by_newlines() -> None:
    content = [
        {"type": "input_text", "text": "first"},
        {"type": "output_text", "text": "second", "annotations": []},
    ]
    [message] = translate.input_messages(body(input=[{"role": "user", "content": content}]))
    assert message.content == "first\nsecond"


def test_a_non_text_part_is_refused_by_its_path() -> None:
    content = [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": "https://example.com/cat.png"},
    ]
    request = body(input=[{"role": "user", "content": "hi"}, {"role": "user", "content": content}])
    error = refused(Unsupported, lambda: translate.input_messages(request))
    assert error.param == "input[1].content[1]"
    assert error.code == "unsupported_parameter"
    assert "input_image" in error.message


def test_a_refusal_part_is_the_assistant_s_text() -> None:
    # an earlier OpenAI answer echoed back: its refusal is what the assistant said
    refusal = {"type": "refusal", "refusal": "I can't help with that."}
    earlier = {"type": "message", "role": "assistant", "id": "msg_1", "content": [refusal]}
    messages = translate.input_messages(body(input=[earlier, {"role": "user", "content": "x"}]))
    assert messages[0] == ChatMessage(role=Role.ASSISTANT, content="I can't help with that.")


@pytest.mark.parametrize(
    ("part", "field"),
    [({"type": "input_text"}, "text"), ({"type": "refusal"}, "refusal")],
)
def test_a_text_part_without_its_text_is_a_missing_parameter(
    part: dict[str, Any], field: str
) -> None:
    request = body(input=[{"role": "user", "content": [{"type": "input_text", "text": "a"}, part]}])
    error = refused(InvalidRequest, lambda: translate.input_messages(request))
    assert (error.param, error.code) == (
        f"input[0].content[1].{field}",
        "missing_required_parameter",
    )
    assert error.message == f"Missing required parameter: 'input[0].content[1].{field}'."


def test_an_unknown_item_type_is_refused_by_its_path() -> None:
    request = body(input=[{"role": "user", "content": "hi"}, {"type": "item_reference", "id": "x"}])
    error = refused(Unsupported, lambda: translate.input_messages(request))
    assert error.param == "input[1].type"
    assert "item_reference" in error.message


def test_function_calls_and_outputs_become_an_assistant_turn_and_tool_messages() -> None:
    messages = translate.input_messages(
        body(
            input=[
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "Two."}]},
                {"type": "function_call", "call_id": "c1", "name": "w", "arguments": '{"c":"P"}'},
                {"type": "function_call", "call_id": "c2", "name": "w", "arguments": '{"c":"R"}'},
                {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
                {"type": "function_call_output", "call_id": "c2", "output": "rain"},
            ]
        )
    )
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL]
    assistant = messages[1]
    assert assistant.content is None
    assert assistant.reasoning == "Two."
    assert assistant.tool_calls == [
        ToolCall(id="c1", name="w", arguments='{"c":"P"}'),
        ToolCall(id="c2", name="w", arguments='{"c":"R"}'),
    ]
    assert [(m.tool_call_id, m.content) for m in messages[2:]] == [("c1", "sunny"), ("c2", "rain")]


def test_a_call_after_assistant_text_joins_that_message() -> None:
    messages = translate.input_messages(
        body(
            input=[
                {"role": "user", "content": "hi"},
                {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "Think."}]},
                {"role": "assistant", "content": "Let me look."},
                {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            ]
        )
    )
    assert len(messages) == 2
    assistant = messages[1]
    assert assistant.role == Role.ASSISTANT
    assert (assistant.content, assistant.reasoning) == ("Let me look.", "Think.")
    assert [c.id for c in assistant.tool_calls] == ["c1"]


def test_reasoning_goes_to_the_next_assistant_message_only() -> None:
    messages = translate.input_messages(
        body(
            input=[
                {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "a"}]},
                {"role": "assistant", "content": "one"},
                {"role": "user", "content": "again"},
                {"role": "assistant", "content": "two"},
            ]
        )
    )
    assert [m.reasoning for m in messages] == ["a", None, None]


def test_reasoning_before_a_call_that_joins_a_message_stays_in_that_turn() -> None:
    messages = translate.input_messages(
        body(
            input=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "Let me check."},
                {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "R2"}]},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c", "output": "ok"},
                {"role": "assistant", "content": "Done."},
            ]
        )
    )
    [with_call] = [m for m in messages if any(c.id == "c" for c in m.tool_calls)]
    assert with_call.reasoning == "R2"
    assert messages[-1].content == "Done."
    assert messages[-1].reasoning is None


def test_function_call_output_parts_are_text() -> None:
    output = [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]
    request = body(input=[{"type": "function_call_output", "call_id": "c", "output": output}])
    [message] = translate.input_messages(request)
    assert (message.role, message.content, message.tool_call_id) == (Role.TOOL, "a\nb", "c")


def test_instructions_come_first_as_a_system_message() -> None:
    request = generate(instructions="Be kind.", input="hi")
    assert request.request_id == "resp_1"
    assert request.messages == [
        ChatMessage(role=Role.SYSTEM, content="Be kind."),
        ChatMessage(role=Role.USER, content="hi"),
    ]


def test_output_messages_are_one_assistant_turn() -> None:
    output: list[dict[str, Any]] = [
        {"type": "reasoning", "id": "rs", "summary": [], "content": [{"text": "hm"}]},
        {"type": "message", "id": "m", "content": [{"type": "output_text", "text": "Hi"}]},
        {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": "{}"},
    ]
    assert translate.output_messages(output) == [
        ChatMessage(
            role=Role.ASSISTANT,
            content="Hi",
            reasoning="hm",
            tool_calls=[ToolCall(id="c", name="f", arguments="{}")],
        )
    ]


# --- tools -------------------------------------------------------------------------------


def test_function_tools_become_protocol_tools() -> None:
    bare = {"type": "function", "name": "ping"}
    tools, choice, name = translate.tools(body(tools=[WEATHER, bare]), HANDSHAKE)
    assert (choice, name) == (ToolChoice.AUTO, None)
    assert [t.name for t in tools] == ["get_weather", "ping"]
    assert tools[0].parameters == WEATHER["parameters"]
    assert (tools[0].description, tools[0].strict) == ("The weather in a city", True)
    assert tools[1].parameters == {"type": "object", "properties": {}}
    assert tools[1].strict is False


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [
        (None, ToolChoice.AUTO),
        ("auto", ToolChoice.AUTO),
        ("none", ToolChoice.NONE),
        ("required", ToolChoice.REQUIRED),
    ],
)
def test_tool_choice_modes(tool_choice: str | None, expected: ToolChoice) -> None:
    _, choice, name = translate.tools(body(tools=[WEATHER], tool_choice=tool_choice), HANDSHAKE)
    assert choice is expected
    assert name is None


def test_a_named_tool_choice_is_function_with_its_name() -> None:
    named = {"type": "function", "name": "get_weather"}
    _, choice, name = translate.tools(body(tools=[WEATHER], tool_choice=named), HANDSHAKE)
    assert (choice, name) == (ToolChoice.FUNCTION, "get_weather")


def test_no_tools_need_no_parser() -> None:
    assert translate.tools(body(), NO_PARSERS) == ([], ToolChoice.AUTO, None)


def test_required_and_named_need_no_parser() -> None:
    named = {"type": "function", "name": "get_weather"}
    for choice in ("required", "none", named):
        translate.tools(body(tools=[WEATHER], tool_choice=choice), NO_PARSERS)


def test_auto_with_tools_needs_a_tool_call_parser() -> None:
    error = refused(Unsupported, lambda: translate.tools(body(tools=[WEATHER]), NO_PARSERS))
    assert error.param == "tools"


def test_a_named_choice_must_be_a_tool() -> None:
    request = body(tools=[WEATHER], tool_choice={"type": "function", "name": "other"})
    error = refused(InvalidRequest, lambda: translate.tools(request, HANDSHAKE))
    assert not isinstance(error, Unsupported)
    assert error.param == "tool_choice"


def test_required_needs_a_tool() -> None:
    error = refused(
        InvalidRequest, lambda: translate.tools(body(tool_choice="required"), HANDSHAKE)
    )
    assert error.param == "tool_choice"


def test_hosted_tools_and_other_choices_are_refused() -> None:
    request = body(tools=[WEATHER, {"type": "web_search"}])
    error = refused(Unsupported, lambda: translate.tools(request, HANDSHAKE, "refuse"))
    assert error.param == "tools[1].type"
    # the default policy leaves them out of the prompt (the Response records them)
    assert [t.name for t in translate.tools(request, HANDSHAKE)[0]] == ["get_weather"]
    request = body(tools=[WEATHER], tool_choice={"type": "web_search"})
    error = refused(Unsupported, lambda: translate.tools(request, HANDSHAKE))
    assert error.param == "tool_choice"


def test_generate_request_carries_tools_and_choice() -> None:
    request = generate(
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        input="hi",
    )
    assert [t.name for t in request.tools] == ["get_weather"]
    assert request.tool_choice is ToolChoice.FUNCTION
    assert request.tool_name == "get_weather"
    assert request.parallel_tool_calls is False


# --- refused fields ----------------------------------------------------------------------


def test_background_needs_store() -> None:
    error = refused(InvalidRequest, lambda: generate(input="hi", background=True, store=False))
    assert (error.param, error.code) == ("background", "invalid_value")
    assert generate(input="hi", background=True).request_id == "resp_1"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"conversation": "conv_1"}, "conversation"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"truncation": "auto"}, "truncation"),
        ({"max_tool_calls": 3}, "max_tool_calls"),
        ({"context_management": [{"type": "compaction"}]}, "context_management"),
        ({"prompt_cache_retention": "24h"}, "prompt_cache_retention"),
        ({"include": ["message.output_text.logprobs", "file_search_call.results"]}, "include[1]"),
        ({"text": {"verbosity": "low"}}, "text.verbosity"),
        ({"reasoning": {"effort": "high"}}, "reasoning.effort"),
        ({"reasoning": {"summary": "detailed"}}, "reasoning.summary"),
        ({"reasoning": {"generate_summary": "concise"}}, "reasoning.summary"),
    ],
)
def test_fields_that_cannot_be_honoured_are_refused_by_name(
    fields: dict[str, Any], param: str
) -> None:
    error = refused(Unsupported, lambda: generate(input="hi", **fields))
    assert error.param == param
    assert error.status == 400
    assert error.code == "unsupported_parameter"
    assert error.message.endswith("is not supported by this server.")


def test_an_include_value_outside_openais_list_is_an_invalid_value() -> None:
    """OpenAI's IncludeEnum: a value it knows and Portico cannot honour is unsupported
    (above); a value it does not know at all is a 400 invalid_value listing the known ones."""
    error = refused(
        InvalidRequest, lambda: generate(input="hi", include=[translate.LOGPROBS_INCLUDE, "bogus"])
    )
    assert (error.param, error.code) == ("include[1]", "invalid_value")
    assert error.message.startswith("Invalid value: 'bogus'. Supported values are: ")
    assert "'file_search_call.results'" in error.message


@pytest.mark.parametrize(
    "fields",
    [
        {"truncation": "disabled"},
        {"service_tier": "auto"},
        {"service_tier": "default"},
        {"service_tier": "flex"},
        {"service_tier": "priority"},
        {"prompt_cache_retention": "in_memory"},
        {"text": {"verbosity": "medium"}},
        {"reasoning": {"effort": "none", "summary": "auto"}},
        {"background": False},
        {"include": ["message.output_text.logprobs"]},
    ],
)
def test_the_values_it_can_honour_pass(fields: dict[str, Any]) -> None:
    generate(input="hi", **fields)


def test_reasoning_effort_with_a_reasoning_parser_goes_to_the_template() -> None:
    request = generate(
        make_handshake(reasoning_parser="qwen3"),
        input="hi",
        reasoning={"effort": "low"},
        chat_template_kwargs={"enable_thinking": True},
    )
    assert request.chat_template_kwargs == {"enable_thinking": True, "reasoning_effort": "low"}


def test_json_schema_needs_a_schema() -> None:
    error = refused(
        InvalidRequest,
        lambda: generate(input="hi", text={"format": {"type": "json_schema", "name": "x"}}),
    )
    assert error.param == "text.format"


def test_text_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = generate(
        input="hi", text={"format": {"type": "json_schema", "name": "x", "schema": schema}}
    )
    assert (request.json_schema, request.json_object) == (schema, False)
    request = generate(input="hi", text={"format": {"type": "json_object"}})
    assert (request.json_schema, request.json_object) == (None, True)
    request = generate(input="hi", text={"format": {"type": "text"}})
    assert (request.json_schema, request.json_object) == (None, False)


# --- sampling ----------------------------------------------------------------------------


def test_sampling_fields() -> None:
    request = generate(
        input="hi",
        max_output_tokens=64,
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        min_p=0.05,
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        repetition_penalty=1.1,
        stop="END",
        ignore_eos=True,
        priority=3,
    )
    s = request.sampling
    assert (s.max_tokens, s.temperature, s.top_p, s.top_k, s.min_p, s.seed) == (
        64,
        0.5,
        0.9,
        40,
        0.05,
        7,
    )
    assert (s.presence_penalty, s.frequency_penalty, s.repetition_penalty) == (0.1, 0.2, 1.1)
    assert s.stop == ["END"]
    assert s.ignore_eos is True
    assert s.top_logprobs is None
    assert request.priority == 3


def test_defaults_leave_sampling_to_the_engine() -> None:
    request = generate(input="hi")
    s = request.sampling
    assert (s.max_tokens, s.temperature, s.top_p, s.top_k, s.seed) == (None,) * 5
    assert (s.stop, s.ignore_eos, s.top_logprobs) == ([], False, None)
    assert (request.tool_choice, request.parallel_tool_calls, request.priority) == (
        ToolChoice.AUTO,
        True,
        0,
    )


def test_logprobs_only_when_included() -> None:
    assert generate(input="hi", top_logprobs=5).sampling.top_logprobs is None
    included = generate(input="hi", top_logprobs=5, include=["message.output_text.logprobs"])
    assert included.sampling.top_logprobs == 5
    zero = generate(input="hi", include=["message.output_text.logprobs"])
    assert zero.sampling.top_logprobs == 0


def test_stop_lists_stay_lists() -> None:
    assert generate(input="hi", stop=["a", "b"]).sampling.stop == ["a", "b"]
