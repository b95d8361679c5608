"""Operational routes: the probes and `GET /metrics`.

- `GET /health`: 200 with the model names while the sidecar handshake is live, else 503;
- `GET /readyz` (Kubernetes readiness): the same predicate, `PorticoContext.ready()`, so a
  pod leaves the Service while its sidecar loads, restarts or is away;
- `GET /livez` (Kubernetes liveness): 200 whenever this process answers at all. It never
  looks at the sidecar: a slow or loading engine must not get the frontend restarted;
- `GET /metrics`: every worker's samples, plus the engine's figures, asked of the sidecar
  by the worker that answers (frontend/engine_metrics.py).
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from .. import metrics
from ..context import of
from ..engine_metrics import engine_figures

bp = Blueprint("ops")


@bp.get("/health")
async def health(request: Request) -> HTTPResponse:
    ctx = of(request)
    if ctx.ready():
        return json({"status": "ok", "models": ctx.handshake().model_names})
    return json({"status": "unavailable"}, status=503, headers={"Retry-After": "5"})


@bp.get("/readyz")
async def readyz(request: Request) -> HTTPResponse:
    if of(request).ready():
        return json({"status": "ready"})
    return json({"status": "not ready"}, status=503, headers={"Retry-After": "5"})


@bp.get("/livez")
async def livez(request: Request) -> HTTPResponse:
    return json({"status": "alive"})


@bp.get("/metrics")
async def prometheus(request: Request) -> HTTPResponse:
    ctx = of(request)
    body, content_type = metrics.exposition(await engine_figures(ctx.sidecar, ctx.ready()))
    return raw(body, content_type=content_type)
