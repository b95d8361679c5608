"""More of the OpenAI Agents SDK (PyPI `openai-agents`, unmodified) against Portico on the
fake engine, beyond tests/clients/test_agents_sdk.py's tool and handoff: a structured
`output_type` (alone, after a tool, and on the agent a handoff reaches), `tool_choice`
required and named, multi-turn by `previous_response_id` (given, and the SDK's own
`auto_previous_response_id`) and stateless by `to_input_list()`, reasoning items sent back
with `store=False`, a run's model settings, and a failure. Runs are streamed and not.

The fake answers any schema with its smallest valid example, calls a tool the prompt names
(or the first, under tool_choice required), once, then answers: what a real model says is
not shown here, only that every turn's request and answer pass through the SDK intact.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai import AsyncOpenAI
from pydantic import BaseModel

from tests.stack import Stack

agents = pytest.importorskip("agents")

MODEL = "fake-model"
REPLY = "Hello from the fake engine . It answers every prompt with these words"
TOOL_TURN = ["tool_call_item", "tool_call_output_item", "message_output_item"]
calls: list[str] = []


class Report(BaseModel):
    city: str
    temperature: float
    sunny: bool


@agents.function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    calls.append(city)
    return f"Sunny in {city}."


def model(stack: Stack) -> Any:
    agents.set_tracing_disabled(True)  # no traces to OpenAI's servers
    client = AsyncOpenAI(base_url=stack.url("/v1"), api_key="sk-test", max_retries=0)
    return agents.OpenAIResponsesModel(model=MODEL, openai_client=client)


def agent(stack: Stack, **kwargs: Any) -> Any:
    return agents.Agent(name="Agent", instructions="Help.", model=model(stack), **kwargs)


async def run(starting: Any, prompt: Any, streamed: bool, **kwargs: Any) -> Any:
    if not streamed:
        return await agents.Runner.run(starting, prompt, **kwargs)
    result = agents.Runner.run_streamed(starting, prompt, **kwargs)
    kinds = {event.type async for event in result.stream_events()}
    assert "raw_response_event" in kinds
    return result


STREAMED = pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])


@STREAMED
async def test_a_structured_output_type(fake_stack: Stack, streamed: bool) -> None:
    result = await run(agent(fake_stack, output_type=Report), "The weather?", streamed)
    assert result.final_output == Report(city="fake", temperature=1.5, sunny=True)


@STREAMED
async def test_a_tool_then_a_structured_answer(fake_stack: Stack, streamed: bool) -> None:
    calls.clear()
    weather = agent(fake_stack, tools=[get_weather], output_type=Report)
    result = await run(weather, "Use get_weather", streamed)
    assert calls == ["fake"]
    assert isinstance(result.final_output, Report)
    assert [item.type for item in result.new_items] == TOOL_TURN


@STREAMED
@pytest.mark.parametrize("choice", ["required", "get_weather"])
async def test_tool_choice_forces_the_call(fake_stack: Stack, streamed: bool, choice: str) -> None:
    calls.clear()
    settings = agents.ModelSettings(tool_choice=choice)
    forced = agent(fake_stack, tools=[get_weather], model_settings=settings)
    result = await run(forced, "Hello there", streamed)  # names no tool: only the choice calls
    assert calls == ["fake"]
    # the SDK resets tool_choice after the call (reset_tool_choice), so the run ends
    assert result.final_output == REPLY
    assert [item.type for item in result.new_items] == TOOL_TURN


@STREAMED
async def test_multi_turn_with_previous_response_id(fake_stack: Stack, streamed: bool) -> None:
    calls.clear()
    helper = agent(fake_stack, tools=[get_weather])
    first = await run(helper, "Hello", streamed)
    assert first.final_output == REPLY and first.last_response_id
    second = await run(
        helper, "Now use get_weather", streamed, previous_response_id=first.last_response_id
    )
    assert calls == ["fake"] and second.final_output == REPLY
    assert second.last_response_id != first.last_response_id
    # the chain is Portico's: the second turn's stored response names the first
    client = AsyncOpenAI(base_url=fake_stack.url("/v1"), api_key="sk-test", max_retries=0)
    async with client:
        stored = await client.responses.retrieve(second.last_response_id)
        chain = [stored.previous_response_id]
        while chain[-1] and chain[-1] != first.last_response_id:
            chain.append((await client.responses.retrieve(chain[-1])).previous_response_id)
    assert chain[-1] == first.last_response_id


async def test_auto_previous_response_id(fake_stack: Stack) -> None:
    calls.clear()
    result = await agents.Runner.run(
        agent(fake_stack, tools=[get_weather]), "Use get_weather", auto_previous_response_id=True
    )
    assert calls == ["fake"] and result.final_output == REPLY


@STREAMED
async def test_stateless_multi_turn_with_to_input_list(fake_stack: Stack, streamed: bool) -> None:
    calls.clear()
    helper = agent(fake_stack, tools=[get_weather])
    first = await run(helper, "Use get_weather", streamed)
    turn = [*first.to_input_list(), {"role": "user", "content": "And get_weather again?"}]
    second = await run(helper, turn, streamed)
    assert calls == ["fake", "fake"] and second.final_output == REPLY


@STREAMED
async def test_a_handoff_to_an_agent_with_an_output_type(fake_stack: Stack, streamed: bool) -> None:
    class Answer(BaseModel):
        answer: str

    specialist = agents.Agent(
        name="Specialist", instructions="Answer.", model=model(fake_stack), output_type=Answer
    )
    triage = agent(fake_stack, handoffs=[specialist])
    result = await run(triage, "Please transfer_to_specialist", streamed)
    assert result.last_agent.name == "Specialist"
    assert result.final_output == Answer(answer="fake")


@STREAMED
async def test_reasoning_items_go_back_with_store_false(
    reasoning_stack: Stack, streamed: bool
) -> None:
    calls.clear()
    settings = agents.ModelSettings(
        reasoning={"effort": "low"}, store=False, response_include=["reasoning.encrypted_content"]
    )
    thinker = agent(reasoning_stack, tools=[get_weather], model_settings=settings)
    result = await run(thinker, "Use get_weather", streamed)
    assert calls == ["fake"] and result.final_output == REPLY
    kinds = [item.type for item in result.new_items]
    assert kinds == ["reasoning_item", *TOOL_TURN[:2], "reasoning_item", TOOL_TURN[2]]
    sent_back = [i for i in result.to_input_list() if i.get("type") == "reasoning"]
    assert sent_back and all(i.get("encrypted_content") for i in sent_back)
    again = await run(
        thinker, [*result.to_input_list(), {"role": "user", "content": "More?"}], streamed
    )
    assert again.final_output == REPLY


@STREAMED
async def test_model_settings_pass_through(fake_stack: Stack, streamed: bool) -> None:
    settings = agents.ModelSettings(
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        metadata={"team": "a"},
        truncation="disabled",
        parallel_tool_calls=False,
        top_logprobs=2,
        store=True,
    )
    # with a tool, as the SDK sends parallel_tool_calls only then; the prompt names none
    configured = agent(fake_stack, tools=[get_weather], model_settings=settings)
    result = await run(configured, "Hi", streamed)
    assert result.final_output == REPLY
    usage = result.context_wrapper.usage
    assert usage.requests == 1 and usage.output_tokens == 13 and usage.input_tokens > 0
    client = AsyncOpenAI(base_url=fake_stack.url("/v1"), api_key="sk-test", max_retries=0)
    async with client:
        stored = await client.responses.retrieve(result.last_response_id)
    assert stored.temperature == 0.2 and stored.top_p == 0.9 and stored.max_output_tokens == 50
    assert stored.metadata == {"team": "a"} and stored.parallel_tool_calls is False


@STREAMED
async def test_a_failed_generation_fails_the_run(compat_stack: Stack, streamed: bool) -> None:
    failing = agent(compat_stack)
    with pytest.raises(Exception, match="fake engine broke mid-stream"):
        await run(failing, "fake:raise", streamed)
