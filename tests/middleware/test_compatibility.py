"""middleware/compatibility.py in-process (the real app, Sanic's ASGI test client): in
compatibility mode an extension field is an unknown parameter on every route whose
`ctx.creates_response` flag is set (OpenAI's /v1/responses and Azure's create routes), and
nowhere else; native mode passes them on; the tool_outputs route is native only."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from frontend.application import create_app
from frontend.config import PorticoConfig
from frontend.extensions import EXTENSION_FIELDS, creates_response
from tests import spec
from tests.frontend.scripted import MODEL, ScriptedClient, reply

_names = itertools.count()


def app(compat: bool) -> Sanic:
    sanic = create_app(
        PorticoConfig(COMPATIBILITY_MODE=compat),
        name=f"compat_{next(_names)}",
        client=ScriptedClient([reply("Hi") for _ in range(20)]),
    )

    async def echo(request: Request) -> HTTPResponse:
        return json_response({"creates": creates_response(request)})

    # a create route named by its flag (as Azure's are), and a route that is not one
    sanic.add_route(echo, "/test/create", ["POST"], name="create", ctx_creates_response=True)
    sanic.add_route(echo, "/test/other", ["POST"], name="other", ctx_creates_response=False)
    sanic.add_route(echo, "/test/unflagged", ["POST"], name="unflagged")
    return sanic


async def post(sanic: Sanic, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    _, response = await sanic.asgi_client.post(path, json=body)
    assert response is not None
    return response.status_code, json.loads(response.text)


@pytest.mark.parametrize("field", EXTENSION_FIELDS)
async def test_compatibility_mode_refuses_each_extension_field(field: str) -> None:
    status, body = await post(app(True), "/v1/responses", {"model": MODEL, field: 1})
    assert status == 400, body
    spec.validate_error(body)
    assert body["error"]["param"] == field
    assert body["error"]["message"] == f"Unknown parameter: '{field}'."
    # the code of every other unknown parameter (frontend/openai/parse.py), as at OpenAI
    assert body["error"]["code"] == "unknown_parameter"


async def test_a_flagged_route_is_filtered_like_v1_responses() -> None:
    sanic = app(True)
    status, body = await post(sanic, "/test/create", {"top_k": 5})
    assert (status, body["error"]["param"]) == (400, "top_k")
    assert await post(sanic, "/test/create", {"model": "x"}) == (200, {"creates": True})
    assert await post(sanic, "/test/other", {"top_k": 5}) == (200, {"creates": False})
    assert await post(sanic, "/test/unflagged", {"top_k": 5}) == (200, {"creates": False})


async def test_native_mode_passes_extension_fields() -> None:
    sanic = app(False)
    assert await post(sanic, "/test/create", {"top_k": 5}) == (200, {"creates": True})
    status, body = await post(sanic, "/v1/responses", {"model": MODEL, "input": "hi", "top_k": 5})
    assert status == 200, body
    spec.validate_response(body)


async def test_the_create_route_carries_the_flag() -> None:
    sanic = app(True)
    route = next(r for r in sanic.router.routes if r.path == "v1/responses" and "POST" in r.methods)
    assert route.ctx.creates_response is True


async def test_tool_outputs_is_native_only() -> None:
    status, body = await post(app(True), "/v1/responses/resp_x/tool_outputs", {"tool_outputs": []})
    assert status == 404
    spec.validate_error(body)
    status, body = await post(
        app(False),
        "/v1/responses/resp_x/tool_outputs",
        {"tool_outputs": [{"call_id": "c", "output": "x"}]},
    )
    assert status == 404  # the route exists: the response does not
    assert body["error"]["param"] == "response_id"


async def test_azure_create_routes_are_filtered_too() -> None:
    sanic = app(True)
    flagged = [r.path for r in sanic.router.routes if getattr(r.ctx, "creates_response", False)]
    azure = [path for path in flagged if path.startswith("openai/")]
    assert azure, flagged  # routes/azure.py's create routes carry the flag
    status, body = await post(sanic, "/openai/v1/responses", {"model": MODEL, "top_k": 3})
    assert status == 400, body
    assert body["error"]["param"] == "top_k"
