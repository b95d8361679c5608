"""`GET /v1/models` and `GET /v1/models/{id}`: the names the sidecar serves; and
`GET /v1/codex/models`: the same names as Codex CLI's model catalog (frontend/codex_catalog.py).

Native mode adds vLLM's `max_model_len` (the context length, from the sidecar's handshake)
to each model, as vLLM's own server does; compatibility mode sends only OpenAI's fields, and
the Codex catalog (not an OpenAI route) is native only: 404 in compatibility mode.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from .. import codex_catalog, extensions
from ..context import PorticoContext, allowed_models, of

bp = Blueprint("models", url_prefix="/v1")


def _model(request: Request, ctx: PorticoContext, name: str) -> dict[str, Any]:
    model: dict[str, Any] = {
        "id": name,
        "object": "model",
        "created": ctx.started_at,
        "owned_by": "portico",
    }
    if extensions.native(request):
        model["max_model_len"] = ctx.handshake().max_model_len
    return model


@bp.get("/models")
async def list_models(request: Request) -> HTTPResponse:
    ctx = of(request)
    names = ctx.model_names(allowed_models(request))  # an API key's models only
    return json({"object": "list", "data": [_model(request, ctx, n) for n in names]})


@bp.get("/models/<model_id:path>")
async def get_model(request: Request, model_id: str) -> HTTPResponse:
    ctx = of(request)
    return json(_model(request, ctx, ctx.resolve_model(model_id, allowed_models(request))))


@bp.get("/codex/models")
async def codex_models(request: Request) -> HTTPResponse:
    """Codex's `model_catalog_url` (Codex adds `?client_version=...`, which changes nothing)."""
    extensions.require_native(request)
    ctx = of(request)
    names = ctx.model_names(allowed_models(request))  # an API key's models only
    return json(codex_catalog.catalog(names, ctx.handshake()))
