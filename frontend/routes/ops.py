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
    sidecar = ctx.sidecar
    if sidecar is not None and sidecar.healthy and sidecar.handshake is not None:
        metrics.SIDECAR_UP.set(1)
        return json({"status": "ok", "models": sidecar.handshake.model_names})
    metrics.SIDECAR_UP.set(0)
    return json({"status": "unavailable"}, status=503, headers={"Retry-After": "5"})


@bp.get("/metrics")
async def prometheus(request: Request) -> HTTPResponse:
    body, content_type = metrics.exposition()
    return raw(body, content_type=content_type)
