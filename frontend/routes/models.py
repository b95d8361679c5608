"""`GET /v1/models` and `GET /v1/models/{id}`: the names the sidecar serves."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from ..context import PorticoContext, of

bp = Blueprint("models", url_prefix="/v1")


def _model(ctx: PorticoContext, name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": ctx.started_at, "owned_by": "portico"}


@bp.get("/models")
async def list_models(request: Request) -> HTTPResponse:
    ctx = of(request)
    return json({"object": "list", "data": [_model(ctx, n) for n in ctx.model_names()]})


@bp.get("/models/<model_id:path>")
async def get_model(request: Request, model_id: str) -> HTTPResponse:
    ctx = of(request)
    return json(_model(ctx, ctx.resolve_model(model_id)))
