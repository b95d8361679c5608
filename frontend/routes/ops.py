"""Operational routes: `GET /health` (the sidecar handshake is live) and `GET /metrics`."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from .. import metrics
from ..context import of

bp = Blueprint("ops")


@bp.get("/health")
async def health(request: Request) -> HTTPResponse:
    ctx = of(request)
    if ctx.ready():
        return json({"status": "ok", "models": ctx.handshake().model_names})
    return json({"status": "unavailable"}, status=503, headers={"Retry-After": "5"})


@bp.get("/metrics")
async def prometheus(request: Request) -> HTTPResponse:
    body, content_type = metrics.exposition()
    return raw(body, content_type=content_type)
