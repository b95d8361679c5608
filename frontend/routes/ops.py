"""Operational routes: the probes and `GET /metrics`.

- `GET /health`: 200 with the model names while the sidecar handshake is live, else 503;
- `GET /readyz` (Kubernetes readiness): the same predicate, `PorticoContext.ready()`, so a
  pod leaves the Service while its sidecar loads, restarts or is away;
- `GET /livez` (Kubernetes liveness): 200 whenever this process answers at all. It never
  looks at the sidecar: a slow or loading engine must not get the frontend restarted.
"""

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
    body, content_type = metrics.exposition()
    return raw(body, content_type=content_type)
