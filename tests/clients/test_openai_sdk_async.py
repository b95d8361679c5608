"""The official `openai` SDK's asynchronous client (`AsyncOpenAI`, unmodified) against
Portico on the fake engine: create, `stream=True`, the `responses.stream` helper with a
pydantic `text_format`, `responses.parse`, `with_streaming_response`, async pagination of
`input_items.list`, and a background response resumed, then cancelled. Every object is
checked strictly (tests/clients/typed.py)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.responses import Response, ResponseCompletedEvent, ResponseFailedEvent
from pydantic import BaseModel

from frontend.extensions import EXTENSION_EVENTS
from tests.clients.typed import check_events, check_typed
from tests.stack import Stack

MODEL = "fake-model"
REPLY = "Hello from the fake engine . It answers every prompt with these words"


class Answer(BaseModel):
    answer: str
    confidence: float


def standard(events: list[Any]) -> list[Any]:
    return [e for e in events if e.type not in EXTENSION_EVENTS]


async def test_create_and_stream(fake_stack: Stack) -> None:
    async with fake_stack.async_openai() as client:
        response = await client.responses.create(model=MODEL, input="hi")
        check_typed(response)
        assert response.output_text == REPLY
        stream = await client.responses.create(model=MODEL, input="hi", stream=True)
        events = [event async for event in stream]
        check_events(standard(events))
        assert isinstance(events[-1], ResponseCompletedEvent)
        assert events[-1].response.output_text == REPLY
        fetched = await client.responses.retrieve(events[-1].response.id)
        assert fetched.model_dump() == events[-1].response.model_dump()


async def test_the_stream_helper_and_parse(fake_stack: Stack) -> None:
    async with fake_stack.async_openai() as client:
        async with client.responses.stream(
            model=MODEL, input="Answer me", text_format=Answer
        ) as stream:
            events = [event async for event in stream]
            final = await stream.get_final_response()
        check_events(standard(events))
        check_typed(final)
        assert isinstance(final.output_parsed, Answer)
        parsed = await client.responses.parse(model=MODEL, input="Answer me", text_format=Answer)
        check_typed(parsed)
        assert parsed.output_parsed == final.output_parsed


async def test_with_streaming_response(fake_stack: Stack) -> None:
    async with fake_stack.async_openai() as client:
        async with client.responses.with_streaming_response.create(
            model=MODEL, input="hi"
        ) as answer:
            assert answer.status_code == 200
            response = await answer.parse()
        assert isinstance(response, Response) and response.output_text == REPLY
        async with client.responses.with_streaming_response.create(
            model=MODEL, input="hi", stream=True
        ) as answer:
            events = [event async for event in await answer.parse()]
        check_events(standard(events))
        assert events[-1].type == "response.completed"


async def test_input_items_paginate(fake_stack: Stack) -> None:
    async with fake_stack.async_openai() as client:
        messages: Any = [{"role": "user", "content": f"m{i}"} for i in range(4)]
        response = await client.responses.create(model=MODEL, input=messages)
        ids = [item.id async for item in client.responses.input_items.list(response.id, limit=3)]
        assert len(set(ids)) == 4
        page = await client.responses.input_items.list(response.id, limit=3)
        check_typed(page)
        assert page.has_more and page.has_next_page()
        rest = await page.get_next_page()
        assert [item.id for item in [*page.data, *rest.data]] == ids


async def test_a_background_response_resumed_then_cancelled(fake_stack: Stack) -> None:
    async with fake_stack.async_openai() as client:
        queued = await client.responses.create(
            model=MODEL, input="Count slowly fake:delay=0.3", background=True
        )
        check_typed(queued)
        stream = await client.responses.retrieve(queued.id, stream=True)
        seen = []
        async for event in stream:
            seen.append(event)
            if event.type == "response.output_text.delta":
                break
        await stream.close()
        check_events(standard(seen))
        cancelled = await client.responses.cancel(queued.id)
        check_typed(cancelled)
        assert cancelled.status == "cancelled"
        async with client.responses.stream(response_id=queued.id) as resumed:
            events = [event async for event in resumed]
        check_events(standard(events))
        assert isinstance(events[-1], ResponseFailedEvent)  # OpenAI has no response.cancelled
        assert events[-1].response.status == "cancelled"


async def test_errors_raise_typed_exceptions(fake_stack: Stack) -> None:
    client = AsyncOpenAI(base_url=fake_stack.url("/v1"), api_key="sk-test", max_retries=0)
    async with client:
        with pytest.raises(openai.NotFoundError) as caught:
            await client.responses.retrieve("resp_missing")
        assert caught.value.status_code == 404 and caught.value.type == "invalid_request_error"
