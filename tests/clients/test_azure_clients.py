"""The official SDK's Azure clients (`AzureOpenAI`, `AsyncAzureOpenAI`, unmodified) against
Portico on the fake engine, beyond tests/frontend/routes/test_azure_routes.py: every default
`api_version` as the SDK sends it, the SDK's environment variables, Microsoft Entra ID
tokens (`azure_ad_token`, sync and async token providers) with auth off and with API keys,
`azure_deployment` on every operation, and the async client's create, stream helper,
parse, background resume and cancel. Every object is checked strictly
(tests/clients/typed.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai import AsyncAzureOpenAI, AzureOpenAI
from pydantic import BaseModel

from frontend.azure import DEFAULT_API_VERSIONS
from frontend.extensions import EXTENSION_EVENTS
from tests.clients.typed import check_events, check_typed
from tests.stack import Stack

MODEL = "fake-model"
DEPLOYMENT = "gpt-4o"
VERSION = "2025-04-01-preview"
REPLY = "Hello from the fake engine . It answers every prompt with these words"
KEY = "azure-clients-key-0123456789"


class Answer(BaseModel):
    answer: str


@pytest.fixture(scope="module")
def azure_stack() -> Iterator[Stack]:
    stack = Stack("--fake", env={"PORTICO_AZURE_DEPLOYMENTS": f"{DEPLOYMENT}={MODEL}"}).start()
    yield stack
    stack.stop()


def standard(events: list[Any]) -> list[Any]:
    return [e for e in events if e.type not in EXTENSION_EVENTS]


@pytest.mark.parametrize("version", DEFAULT_API_VERSIONS.split(","))
def test_every_default_api_version(azure_stack: Stack, version: str) -> None:
    client = AzureOpenAI(
        azure_endpoint=azure_stack.base_url, api_version=version, api_key="k", max_retries=0
    )
    raw = client.responses.with_raw_response.create(model=DEPLOYMENT, input="hi")
    assert raw.http_request.url.params["api-version"] == version
    response = raw.parse()
    check_typed(response)
    assert response.model == MODEL and response.output_text == REPLY


def test_the_sdks_environment_variables(
    azure_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", azure_stack.base_url)
    monkeypatch.setenv("OPENAI_API_VERSION", VERSION)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "from-the-environment")
    client = AzureOpenAI(max_retries=0)
    raw = client.responses.with_raw_response.create(model=DEPLOYMENT, input="hi")
    assert raw.http_request.headers["api-key"] == "from-the-environment"
    assert raw.http_request.url.params["api-version"] == VERSION
    check_typed(raw.parse())


def test_entra_tokens_without_keys(azure_stack: Stack) -> None:
    """Auth off: an Entra bearer token is accepted as any key would be."""
    with_token = AzureOpenAI(
        azure_endpoint=azure_stack.base_url,
        api_version=VERSION,
        azure_ad_token="eyJ0eXAi.entra.token",
        max_retries=0,
    )
    raw = with_token.responses.with_raw_response.create(model=DEPLOYMENT, input="hi")
    assert raw.http_request.headers["authorization"] == "Bearer eyJ0eXAi.entra.token"
    assert "api-key" not in raw.http_request.headers
    response = raw.parse()
    check_typed(response)
    asked: list[int] = []

    def provider() -> str:
        asked.append(1)
        return "eyJ0eXAi.provided"

    provided = AzureOpenAI(
        azure_endpoint=azure_stack.base_url,
        api_version=VERSION,
        azure_ad_token_provider=provider,
        max_retries=0,
    )
    assert provided.responses.retrieve(response.id).id == response.id
    assert provided.responses.input_items.list(response.id).data
    assert asked  # the SDK called the provider for the request


def test_entra_tokens_with_keys() -> None:
    """With keys, a bearer token is a key like any other: a configured one works, on the
    same tenant as `api-key`; any other is OpenAI's 401."""
    stack = Stack("--fake", env={"PORTICO_API_KEYS": KEY}).start()
    try:
        base: Any = {"azure_endpoint": stack.base_url, "api_version": VERSION, "max_retries": 0}
        by_key = AzureOpenAI(api_key=KEY, **base)
        response = by_key.responses.create(model=MODEL, input="hi")
        by_token = AzureOpenAI(azure_ad_token_provider=lambda: KEY, **base)
        assert by_token.responses.retrieve(response.id).id == response.id
        stranger = AzureOpenAI(azure_ad_token="eyJ0eXAi.not.a.key", **base)
        with pytest.raises(openai.AuthenticationError) as caught:
            stranger.responses.create(model=MODEL, input="hi")
        assert caught.value.status_code == 401 and caught.value.type == "invalid_request_error"
        assert caught.value.response.headers["apim-request-id"]
    finally:
        stack.stop()


def test_azure_deployment_on_every_operation(azure_stack: Stack) -> None:
    client = AzureOpenAI(
        azure_endpoint=azure_stack.base_url,
        azure_deployment=DEPLOYMENT,
        api_version=VERSION,
        api_key="k",
        max_retries=0,
    )
    queued = client.responses.create(
        model=DEPLOYMENT, input="Count slowly fake:delay=0.3", background=True
    )
    check_typed(queued)
    assert client.responses.retrieve(queued.id).id == queued.id
    assert client.responses.input_items.list(queued.id).data
    assert client.responses.input_tokens.count(model=DEPLOYMENT, input="hi").input_tokens > 0
    cancelled = client.responses.cancel(queued.id)
    check_typed(cancelled)
    assert cancelled.status == "cancelled"
    client.responses.delete(queued.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(queued.id)


async def test_the_async_client(azure_stack: Stack) -> None:
    async def provider() -> str:
        return "eyJ0eXAi.async"

    client = AsyncAzureOpenAI(
        azure_endpoint=azure_stack.base_url,
        api_version=VERSION,
        azure_ad_token_provider=provider,
        max_retries=0,
    )
    async with client:
        response = await client.responses.create(model=DEPLOYMENT, input="hi")
        check_typed(response)
        assert response.model == MODEL
        async with client.responses.stream(
            model=DEPLOYMENT, input="hi", text_format=Answer
        ) as stream:
            events = [event async for event in stream]
            final = await stream.get_final_response()
        check_events(standard(events))
        assert final.output_parsed == Answer(answer="fake")
        parsed = await client.responses.parse(model=DEPLOYMENT, input="hi", text_format=Answer)
        check_typed(parsed)

        queued = await client.responses.create(
            model=DEPLOYMENT, input="Slowly fake:delay=0.02", background=True
        )
        async with client.responses.stream(response_id=queued.id, starting_after=2) as resumed:
            followed = [event async for event in resumed]
            done = await resumed.get_final_response()
        check_events(standard(followed))
        assert followed[0].sequence_number == 3 and done.output_text == REPLY
