"""Azure OpenAI's routes (frontend/routes/azure.py) driven as Azure's users drive them: the
official SDK's `AzureOpenAI` (dated API, deployments, v1) and `OpenAI` on `/openai/v1/`,
and raw HTTP, against a running stack (launcher, fake sidecar, Sanic). Every body and event
is checked against the specs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import openai
import pytest
from openai import AzureOpenAI, OpenAI

from tests import spec
from tests.sdk import output_item
from tests.sse import post_stream
from tests.stack import Stack

MODEL = "fake-model"
VERSION = "2025-04-01-preview"
DEPLOYMENT = "gpt-4o"  # mapped to the fake engine's model
REGION = "swedencentral"
ORGANIZATION = "org-portico-test"
KEY = "azure-test-key-0123456789"
WIRE: dict[str, Any] = {"mode": "json", "exclude_unset": True, "by_alias": True}  # as sent


@pytest.fixture(scope="module")
def azure_stack() -> Iterator[Stack]:
    env = {
        "PORTICO_AZURE_DEPLOYMENTS": f"{DEPLOYMENT}={MODEL}",
        "PORTICO_AZURE_REGION": REGION,
        "PORTICO_OPENAI_ORGANIZATION": ORGANIZATION,
    }
    stack = Stack("--fake", env=env).start()
    yield stack
    stack.stop()


def azure(stack: Stack, **kwargs: Any) -> AzureOpenAI:
    options: dict[str, Any] = {"api_version": VERSION, "api_key": "unused", "max_retries": 0}
    if "base_url" not in kwargs:
        options["azure_endpoint"] = stack.base_url
    return AzureOpenAI(**{**options, **kwargs})


def azure_headers(headers: Mapping[str, str]) -> None:
    uuid.UUID(headers["apim-request-id"])
    assert headers["x-ms-region"] == REGION
    assert headers["openai-version"] == "2020-10-01"
    assert headers["openai-processing-ms"].isdigit()
    assert headers["openai-organization"] == ORGANIZATION
    assert headers["x-request-id"]


def wait_final(client: OpenAI, response_id: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = client.responses.retrieve(response_id)
        if found.status not in ("queued", "in_progress") or time.monotonic() > deadline:
            return found


# --- AzureOpenAI on the dated API -----------------------------------------------------------


def test_create_retrieve_items_delete(azure_stack: Stack) -> None:
    client = azure(azure_stack)
    raw = client.responses.with_raw_response.create(model=DEPLOYMENT, input="Say hello")
    assert raw.http_request.url.path == "/openai/responses"
    assert raw.http_request.url.params["api-version"] == VERSION
    assert raw.http_request.headers["api-key"] == "unused"
    azure_headers(raw.headers)
    response = raw.parse()
    spec.validate_response(response.model_dump(**WIRE))
    assert response.status == "completed" and response.model == MODEL
    assert output_item(response).content[0].text

    fetched = client.responses.retrieve(response.id)
    assert fetched.model_dump() == response.model_dump()
    items = client.responses.input_items.list(response.id)
    spec.validate(items.model_dump(**WIRE), "ResponseItemList")
    assert [item.type for item in items.data] == ["message"]
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_stream_with_the_sdk_and_on_the_wire(azure_stack: Stack) -> None:
    client = azure(azure_stack)
    events = list(client.responses.create(model=DEPLOYMENT, input="Say hello", stream=True))
    spec.validate_event_sequence([event.model_dump(**WIRE) for event in events])
    assert events[-1].type == "response.completed"
    with client.responses.stream(model=DEPLOYMENT, input="Say hello") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text and final.model == MODEL

    url = azure_stack.url(f"/openai/responses?api-version={VERSION}")
    sent = {"x-ms-client-request-id": str(uuid.uuid4())}
    wire = post_stream(url, {"model": DEPLOYMENT, "input": "hi", "stream": True}, headers=sent)
    assert wire.status == 200, wire.body
    spec.validate_event_sequence(wire.events)
    assert wire.names == [event["type"] for event in wire.events]
    azure_headers(wire.headers)
    assert wire.headers["x-ms-client-request-id"] == sent["x-ms-client-request-id"]


def test_cancel_a_background_response(azure_stack: Stack) -> None:
    client = azure(azure_stack)
    queued = client.responses.create(
        model=DEPLOYMENT, input="Count slowly. fake:delay=0.2", background=True
    )
    assert queued.status in ("queued", "in_progress")
    cancelled = client.responses.cancel(queued.id)
    spec.validate_response(cancelled.model_dump(**WIRE))
    assert cancelled.status == "cancelled"
    assert client.responses.retrieve(queued.id).status == "cancelled"


def test_input_tokens(azure_stack: Stack) -> None:
    client = azure(azure_stack)
    counted = client.responses.input_tokens.count(model=DEPLOYMENT, input="Hello there")
    assert counted.input_tokens > 0


# --- deployments ----------------------------------------------------------------------------


def test_the_deployment_route_picks_the_model(azure_stack: Stack) -> None:
    client = azure(azure_stack, base_url=azure_stack.url(f"/openai/deployments/{DEPLOYMENT}"))
    raw = client.responses.with_raw_response.create(model=DEPLOYMENT, input="hi")
    assert raw.http_request.url.path == f"/openai/deployments/{DEPLOYMENT}/responses"
    azure_headers(raw.headers)
    response = raw.parse()
    spec.validate_response(response.model_dump(**WIRE))
    assert response.model == MODEL
    assert client.responses.retrieve(response.id).id == response.id

    # the body's model may be left out: the deployment decides
    answer = httpx.post(
        azure_stack.url(f"/openai/deployments/{DEPLOYMENT}/responses"),
        params={"api-version": VERSION},
        json={"input": "hi"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    spec.validate_response(answer.json())
    assert answer.json()["model"] == MODEL


def test_azure_deployment_on_the_client(azure_stack: Stack) -> None:
    """`azure_deployment=` puts the deployment in the path only for chat completions and the
    like: the SDK calls /openai/responses with the model given."""
    client = azure(azure_stack, azure_deployment=DEPLOYMENT)
    raw = client.responses.with_raw_response.create(model=DEPLOYMENT, input="hi")
    assert raw.http_request.url.path == "/openai/responses"
    assert raw.parse().model == MODEL


def test_an_unknown_deployment_is_azures_404(azure_stack: Stack) -> None:
    answer = httpx.post(
        azure_stack.url("/openai/deployments/gpt-missing/responses"),
        params={"api-version": VERSION},
        json={"input": "hi"},
        timeout=60,
    )
    assert answer.status_code == 404, answer.text
    spec.validate_error(answer.json())
    assert answer.json()["error"]["code"] == "DeploymentNotFound"
    azure_headers(answer.headers)
    client = azure(azure_stack, base_url=azure_stack.url("/openai/deployments/gpt-missing"))
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="gpt-missing", input="hi")
    assert caught.value.code == "DeploymentNotFound"


# --- api-version ----------------------------------------------------------------------------


def test_api_version_errors_in_azures_form(azure_stack: Stack) -> None:
    for query in ({}, {"api-version": "2023-05-15"}):
        answer = httpx.post(
            azure_stack.url("/openai/responses"),
            params=query,
            json={"model": MODEL, "input": "hi"},
            timeout=60,
        )
        assert answer.status_code == 400, answer.text
        body = answer.json()
        spec.validate_error(body)
        assert body["error"]["code"] == "BadRequest"
        assert body["error"]["param"] == "api-version"
        azure_headers(answer.headers)
    with pytest.raises(openai.BadRequestError) as caught:
        azure(azure_stack, api_version="2023-05-15").responses.create(model=MODEL, input="hi")
    assert caught.value.code == "BadRequest"
    assert "API version not supported" in caught.value.message


# --- the v1 API -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["AzureOpenAI", "OpenAI"])
def test_v1_with_either_client(azure_stack: Stack, kind: str) -> None:
    base_url = azure_stack.url("/openai/v1/")
    client: OpenAI
    if kind == "OpenAI":  # as Microsoft documents the v1 API: no api-version at all
        client = OpenAI(base_url=base_url, api_key="unused", max_retries=0)
    else:
        client = azure(azure_stack, base_url=base_url, api_version="preview")
    raw = client.responses.with_raw_response.create(model=DEPLOYMENT, input="hi")
    assert raw.http_request.url.path == "/openai/v1/responses"
    azure_headers(raw.headers)
    response = raw.parse()
    spec.validate_response(response.model_dump(**WIRE))
    assert response.model == MODEL
    events = list(client.responses.create(model=MODEL, input="hi", stream=True))
    spec.validate_event_sequence([event.model_dump(**WIRE) for event in events])
    assert client.responses.retrieve(response.id).id == response.id
    items = client.responses.input_items.list(response.id)
    assert len(items.data) == 1
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


# --- API keys -------------------------------------------------------------------------------


def test_with_api_keys_the_api_key_header_works() -> None:
    stack = Stack("--fake", env={"PORTICO_API_KEYS": KEY}).start()
    try:
        client = azure(stack, api_key=KEY)
        response = client.responses.create(model=MODEL, input="hi")
        spec.validate_response(response.model_dump(**WIRE))
        assert client.responses.retrieve(response.id).id == response.id
        v1 = OpenAI(base_url=stack.url("/openai/v1/"), api_key=KEY, max_retries=0)
        assert v1.responses.retrieve(response.id).id == response.id  # Bearer: same tenant
        with pytest.raises(openai.AuthenticationError):
            azure(stack, api_key="wrong-key-0123456789").responses.create(model=MODEL, input="hi")
        refused = httpx.get(stack.url(f"/openai/v1/responses/{response.id}"), timeout=60)
        assert refused.status_code == 401
        spec.validate_error(refused.json())
        uuid.UUID(refused.headers["apim-request-id"])
        assert refused.headers["openai-version"] == "2020-10-01"
    finally:
        stack.stop()
