"""Counts every answered request by route, method and status for /metrics."""

from __future__ import annotations

from sanic import HTTPResponse, Request, Sanic

from frontend.metrics import REQUESTS


def register(app: Sanic) -> None:
    @app.on_response(priority=90)
    async def count(request: Request, response: HTTPResponse) -> None:
        route = request.route.path if request.route else "unmatched"
        REQUESTS.labels("/" + route.lstrip("/"), request.method, str(response.status)).inc()
