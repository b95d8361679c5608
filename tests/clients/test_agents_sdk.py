"""The OpenAI Agents SDK (PyPI `openai-agents`, unmodified) against Portico with the fake
engine: an agent with a function tool, and a handoff to a second agent, through the SDK's
Responses model (OpenAIResponsesModel on an AsyncOpenAI client at the stack), streamed and
not. The fake calls the tool the prompt names, once, then answers."""

from __future__ import annotations

import pytest

from tests.stack import Stack

agents = pytest.importorskip("agents")

MODEL = "fake-model"
REPLY = "Hello from the fake engine . It answers every prompt with these words"
calls: list[str] = []


@agents.function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    calls.append(city)
    return f"Sunny in {city}."


def build(stack: Stack) -> tuple[object, object]:
    """A triage agent with a function tool and a handoff to a specialist agent."""
    agents.set_tracing_disabled(True)  # no traces to OpenAI's servers
    model = agents.OpenAIResponsesModel(model=MODEL, openai_client=stack.async_openai())
    specialist = agents.Agent(name="Specialist", instructions="You answer in detail.", model=model)
    triage = agents.Agent(
        name="Triage",
        instructions="Answer, use tools, or hand off.",
        model=model,
        tools=[get_weather],
        handoffs=[specialist],
    )
    return triage, specialist


async def run(stack: Stack, prompt: str, streamed: bool) -> object:
    triage, _ = build(stack)
    if not streamed:
        return await agents.Runner.run(triage, prompt)
    result = agents.Runner.run_streamed(triage, prompt)
    kinds = [event.type async for event in result.stream_events()]
    assert "raw_response_event" in kinds
    return result


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
async def test_a_function_tool_runs_and_the_agent_answers(
    fake_stack: Stack, streamed: bool
) -> None:
    calls.clear()
    result = await run(fake_stack, "What does get_weather say?", streamed)
    assert calls == ["fake"]  # the fake's arguments satisfy the tool's schema
    assert result.final_output == REPLY  # type: ignore[attr-defined]
    kinds = [item.type for item in result.new_items]  # type: ignore[attr-defined]
    assert kinds == ["tool_call_item", "tool_call_output_item", "message_output_item"]


@pytest.mark.parametrize("streamed", [False, True], ids=["json", "stream"])
async def test_a_handoff_moves_the_conversation_to_the_other_agent(
    fake_stack: Stack, streamed: bool
) -> None:
    result = await run(fake_stack, "Please transfer_to_specialist now", streamed)
    assert result.last_agent.name == "Specialist"  # type: ignore[attr-defined]
    assert result.final_output == REPLY  # type: ignore[attr-defined]
    kinds = [item.type for item in result.new_items]  # type: ignore[attr-defined]
    assert kinds[:2] == ["handoff_call_item", "handoff_output_item"]
