"""Counts every answered request by route, method and status for /metrics."""

from __future__ import annotations

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from frontend.metrics import REQUESTS


def register(app: Sanic) -> None:
    async def count(request: Request, response: BaseHTTPResponse) -> None:
        route = request.route.path if request.route else "unmatched"
        REQUESTS.labels("/" + route.lstrip("/"), request.method, str(response.status)).inc()

    app.register_middleware(count, "response", priority=90)
