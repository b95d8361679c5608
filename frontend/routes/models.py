"""`GET /v1/models` and `GET /v1/models/{id}`: the names the sidecar serves.

Native mode adds vLLM's `max_model_len` (the context length, from the sidecar's handshake)
to each model, as vLLM's own server does; compatibility mode sends only OpenAI's fields.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from ..context import PorticoContext, of

bp = Blueprint("models", url_prefix="/v1")


def _model(request: Request, ctx: PorticoContext, name: str) -> dict[str, Any]:
    model: dict[str, Any] = {
        "id": name,
        "object": "model",
        "created": ctx.started_at,
        "owned_by": "portico",
    }
    if not request.app.config.COMPATIBILITY_MODE:
        model["max_model_len"] = ctx.handshake().max_model_len
    return model


@bp.get("/models")
async def list_models(request: Request) -> HTTPResponse:
    ctx = of(request)
    return json({"object": "list", "data": [_model(request, ctx, n) for n in ctx.model_names()]})


@bp.get("/models/<model_id:path>")
async def get_model(request: Request, model_id: str) -> HTTPResponse:
    ctx = of(request)
    return json(_model(request, ctx, ctx.resolve_model(model_id)))
