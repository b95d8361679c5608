"""middleware/azure.py in-process: the api-version check, deployments as models, Azure's
headers; and frontend/azure.py's settings. The real app (create_app) with the scripted
sidecar client (tests/frontend/routes/test_responses_routes.py's `portico`).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from frontend.azure import DEFAULT_API_VERSIONS, parse_deployments, parse_versions
from frontend.config import BY_NAME, SettingError
from tests import spec
from tests.frontend.routes.test_responses_routes import Portico, Reply, portico
from tests.frontend.scripted import MODEL, reply

VERSION = "2025-04-01-preview"
BODY = {"input": "Hi!"}


async def post(p: Portico, path: str, body: dict[str, Any], **params: str) -> Reply:
    return await p.request("POST", path, json=body, params=params)


def azure_error(answer: Reply, status: int, code: str, param: str | None) -> dict[str, Any]:
    """Azure's error body, which is OpenAI's envelope too (so the SDKs read both)."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    spec.validate_error(body)
    error: dict[str, Any] = body["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert error["type"] == "invalid_request_error"
    return error


def completed(answer: Reply) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    spec.validate_response(body)
    assert body["status"] == "completed"
    return body


# --- api-version ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/openai/responses", "/openai/deployments/dep/responses"])
async def test_dated_routes_need_a_known_api_version(path: str) -> None:
    p = portico(AZURE_DEPLOYMENTS=f"dep={MODEL}")
    missing = azure_error(
        await post(p, path, {"model": MODEL, **BODY}), 400, "BadRequest", "api-version"
    )
    assert "Missing required query parameter 'api-version'" in missing["message"]
    assert VERSION in missing["message"]  # names what it accepts
    unknown = await post(p, path, {"model": MODEL, **BODY}, **{"api-version": "2023-05-15"})
    error = azure_error(unknown, 400, "BadRequest", "api-version")
    assert error["message"].startswith("API version not supported: '2023-05-15'")
    assert p.client.requests == []  # refused before anything ran
    for version in DEFAULT_API_VERSIONS.split(","):
        completed(await post(p, path, {"model": MODEL, **BODY}, **{"api-version": version}))


async def test_v1_needs_none_but_checks_one_given() -> None:
    p = portico()
    completed(await post(p, "/openai/v1/responses", {"model": MODEL, **BODY}))
    completed(
        await post(
            p, "/openai/v1/responses", {"model": MODEL, **BODY}, **{"api-version": "preview"}
        )
    )
    bad = await post(p, "/openai/v1/responses", {"model": MODEL, **BODY}, **{"api-version": "x"})
    azure_error(bad, 400, "BadRequest", "api-version")


async def test_api_versions_are_configurable() -> None:
    p = portico(AZURE_API_VERSIONS="2099-01-01")
    completed(
        await post(
            p, "/openai/responses", {"model": MODEL, **BODY}, **{"api-version": "2099-01-01"}
        )
    )
    refused = await post(
        p, "/openai/responses", {"model": MODEL, **BODY}, **{"api-version": VERSION}
    )
    assert (
        "Supported versions: 2099-01-01."
        in azure_error(refused, 400, "BadRequest", "api-version")["message"]
    )
    anything = portico(AZURE_API_VERSIONS="*")
    completed(
        await post(
            anything, "/openai/responses", {"model": MODEL, **BODY}, **{"api-version": "1999"}
        )
    )
    missing = await post(anything, "/openai/responses", {"model": MODEL, **BODY})
    azure_error(missing, 400, "BadRequest", "api-version")  # * is any value, not none


async def test_every_operation_checks_the_api_version() -> None:
    p = portico()
    for method, path in [
        ("GET", "/openai/responses/resp_x"),
        ("DELETE", "/openai/responses/resp_x"),
        ("POST", "/openai/responses/resp_x/cancel"),
        ("GET", "/openai/responses/resp_x/input_items"),
        ("POST", "/openai/responses/input_tokens"),
    ]:
        answer = await p.request(method, path)
        azure_error(answer, 400, "BadRequest", "api-version")
        found = await p.request(method, path, params={"api-version": VERSION})
        assert found.status_code != 400 or "api-version" not in found.text, (method, path)
    assert (await p.request("GET", "/v1/responses/resp_x")).json()["error"]["code"] == "not_found"


# --- deployments ----------------------------------------------------------------------------


async def test_a_deployment_picks_the_model() -> None:
    p = portico(AZURE_DEPLOYMENTS=f"gpt-4o={MODEL}, other=elsewhere")
    path, version = "/openai/deployments/gpt-4o/responses", {"api-version": VERSION}
    for body in (BODY, {"model": "gpt-4o", **BODY}, {"model": "anything", **BODY}):
        assert completed(await post(p, path, dict(body), **version))["model"] == MODEL
    assert len(p.client.requests) == 3
    unknown = await post(p, "/openai/deployments/nope/responses", BODY, **version)
    error = azure_error(unknown, 404, "DeploymentNotFound", "deployment")
    assert "'nope'" in error["message"]
    # a deployment whose model is not served: the model check's own 404
    elsewhere = await post(p, "/openai/deployments/other/responses", BODY, **version)
    assert elsewhere.json()["error"]["code"] == "model_not_found"


async def test_without_a_map_a_served_model_name_is_a_deployment() -> None:
    p = portico()
    path = f"/openai/deployments/{MODEL}/responses"
    assert completed(await post(p, path, BODY, **{"api-version": VERSION}))["model"] == MODEL
    gone = await p.request(
        "GET", "/openai/deployments/gpt-4o/responses/resp_x", params={"api-version": VERSION}
    )
    azure_error(gone, 404, "DeploymentNotFound", "deployment")


async def test_a_deployment_name_as_model_is_mapped_off_deployment_routes() -> None:
    p = portico(AZURE_DEPLOYMENTS=f"gpt-4o={MODEL}")
    v1 = completed(await post(p, "/openai/v1/responses", {"model": "gpt-4o", **BODY}))
    dated = await post(
        p, "/openai/responses", {"model": "gpt-4o", **BODY}, **{"api-version": VERSION}
    )
    assert v1["model"] == completed(dated)["model"] == MODEL
    unknown = await post(p, "/openai/v1/responses", {"model": "gpt-9", **BODY})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    # the /v1 routes are OpenAI's: deployment names mean nothing there
    plain = await post(p, "/v1/responses", {"model": "gpt-4o", **BODY})
    assert plain.json()["error"]["code"] == "model_not_found"


async def test_input_tokens_on_a_deployment() -> None:
    p = portico(AZURE_DEPLOYMENTS=f"gpt-4o={MODEL}")
    path = "/openai/deployments/gpt-4o/responses/input_tokens"
    answer = await post(p, path, {"input": "Hello there"}, **{"api-version": VERSION})
    assert answer.status_code == 200, answer.text
    assert answer.json()["object"] == "response.input_tokens"
    assert answer.json()["input_tokens"] > 0


@pytest.mark.parametrize(
    "path", ["/openai/v1/responses", "/openai/responses", "/openai/deployments/dep/responses"]
)
async def test_compatibility_mode_filters_azure_creates_too(path: str) -> None:
    p = portico(COMPATIBILITY_MODE=True, AZURE_DEPLOYMENTS=f"dep={MODEL}")
    body = {"model": MODEL, "top_k": 5, **BODY}
    refused = await post(p, path, body, **{"api-version": VERSION})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == "top_k"
    assert p.client.requests == []


async def test_malformed_json_is_still_a_400() -> None:
    p = portico()
    answer = await p.request(
        "POST",
        "/openai/v1/responses",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    spec.validate_error(answer.json())


# --- headers --------------------------------------------------------------------------------


async def test_azure_headers_on_answers_and_errors() -> None:
    p = portico(reply("Hi"), AZURE_REGION="eastus2")
    sent = {"x-ms-client-request-id": "5f0e3a4c-7d6b-4bb1-9c5e-0c2d0f3a1b2c"}
    answers = [
        await p.request(
            "POST", "/openai/v1/responses", json={"model": MODEL, **BODY}, headers=sent
        ),
        await p.request("POST", "/openai/responses", json={"model": MODEL, **BODY}, headers=sent),
        await p.request("GET", "/openai/nothing-here", headers=sent),
    ]
    assert [a.status_code for a in answers] == [200, 400, 404]
    ids = set()
    for answer in answers:
        ids.add(str(uuid.UUID(answer.headers["apim-request-id"])))
        assert answer.headers["x-ms-region"] == "eastus2"
        assert answer.headers["x-ms-client-request-id"] == sent["x-ms-client-request-id"]
    assert len(ids) == 3  # one per request
    plain = await p.request("POST", "/v1/responses", json={"model": MODEL, **BODY}, headers=sent)
    assert "apim-request-id" not in plain.headers and "x-ms-region" not in plain.headers
    unsafe = await p.request("GET", "/openai/x", headers={"x-ms-client-request-id": "a b"})
    assert "x-ms-client-request-id" not in unsafe.headers


async def test_no_region_header_without_a_region() -> None:
    p = portico()
    answer = await post(p, "/openai/v1/responses", {"model": MODEL, **BODY})
    assert "x-ms-region" not in answer.headers and "apim-request-id" in answer.headers


async def test_retry_after_ms_beside_retry_after() -> None:
    p = portico()
    p.client.ready = False  # the sidecar is away: 503 with Retry-After
    answer = await post(p, "/openai/v1/responses", {"model": MODEL, **BODY})
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["retry-after-ms"] == "5000"


# --- settings -------------------------------------------------------------------------------


def test_settings_parse_and_refuse_in_one_line() -> None:
    assert parse_versions(" a, b ,,c") == frozenset({"a", "b", "c"})
    assert parse_deployments("gpt-4o = m1, mini=m2") == {"gpt-4o": "m1", "mini": "m2"}
    assert parse_deployments("") == {}
    refusals = [
        ("AZURE_API_VERSIONS", ""),
        ("AZURE_API_VERSIONS", "a b"),
        ("AZURE_DEPLOYMENTS", "gpt-4o"),
        ("AZURE_DEPLOYMENTS", "a=m,a=n"),
        ("AZURE_DEPLOYMENTS", "a/b=m"),
        ("AZURE_REGION", "east\nus"),
        ("OPENAI_ORGANIZATION", " org"),
    ]
    for name, text in refusals:
        setting = BY_NAME[name]
        with pytest.raises(SettingError) as caught:
            setting.parse(text)
        assert str(caught.value).startswith(setting.flag + " ")
        assert "\n" not in str(caught.value)
    assert BY_NAME["AZURE_REGION"].parse("") == ""
    assert BY_NAME["AZURE_REGION"].parse("swedencentral") == "swedencentral"
