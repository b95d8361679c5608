"""Azure OpenAI's URIs for the Responses routes, served by the very handlers of `/v1`.

Three prefixes, as Azure OpenAI spells them (and as `openai.AzureOpenAI` and `openai.OpenAI`
call them):

* `/openai/responses...?api-version=...` (the dated API: the query is required);
* `/openai/v1/responses...` (Azure's v1 API: an api-version is optional);
* `/openai/deployments/{deployment}/responses...?api-version=...` (the deployment picks the
  model).

Each route's context says which dialect it speaks (`route.ctx.azure`: frontend/azure.py's
DATED or V1) and whether it creates a response (`route.ctx.creates_response`, as the `/v1`
create route does); middleware/azure.py checks the api-version, maps deployments to models
and adds Azure's headers. Nothing here handles a request: a deployment route only drops the
`deployment` path parameter, which the middleware already read, before calling the handler.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from ..azure import DATED, V1
from . import input_tokens, responses, stored

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse | None]]

bp = Blueprint("azure", url_prefix="/openai")

# (method, path under the prefix, handler, name, creates a response); the handlers are the
# /v1 blueprints' (typed Any: Sanic's route decorators do not keep their signatures)
OPERATIONS: tuple[tuple[str, str, Any, str, bool], ...] = (
    ("POST", "/responses", responses.create_response, "create", True),
    ("POST", "/responses/input_tokens", input_tokens.count_input_tokens, "input_tokens", False),
    ("GET", "/responses/<response_id>", stored.retrieve_response, "retrieve", False),
    ("DELETE", "/responses/<response_id>", stored.delete_response, "delete", False),
    ("POST", "/responses/<response_id>/cancel", stored.cancel_response, "cancel", False),
    ("GET", "/responses/<response_id>/input_items", stored.list_input_items, "items", False),
)

# (prefix under /openai, route-name suffix, dialect)
PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("", "dated", DATED),
    ("/v1", "v1", V1),
    ("/deployments/<deployment>", "deployment", DATED),
)


def at_deployment(handler: Handler) -> Handler:
    """`handler` behind a deployment route: the same call without the `deployment` path
    parameter (middleware/azure.py has turned it into the model)."""

    @wraps(handler)
    async def call(request: Request, deployment: str, **params: Any) -> HTTPResponse | None:
        return await handler(request, **params)

    return call


for _prefix, _suffix, _dialect in PREFIXES:
    for _method, _path, _handler, _name, _creates in OPERATIONS:
        bp.add_route(
            at_deployment(_handler) if "<deployment>" in _prefix else _handler,
            _prefix + _path,
            methods=[_method],
            name=f"{_name}_{_suffix}",
            ctx_azure=_dialect,
            ctx_creates_response=_creates,
        )
