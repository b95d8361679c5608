"""Counts every answered request by route, method and status for /metrics.

The route label is the route's pattern as declared (`/v1/responses/<response_id>`, Sanic's
`:str` type dropped), never the path a client sent: no id, key or text reaches a label.
A path no route matches is `unmatched`.
"""

from __future__ import annotations

import re

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from frontend.metrics import REQUESTS

_TYPED = re.compile(r"<([^:>]+):[^>]+>")
_labels: dict[str, str] = {}  # route pattern → label, made once per route


def route_label(request: Request) -> str:
    if request.route is None:
        return "unmatched"
    path = request.route.path
    label = _labels.get(path)
    if label is None:
        label = _labels[path] = "/" + _TYPED.sub(r"<\1>", path).lstrip("/")
    return label


def register(app: Sanic) -> None:
    async def count(request: Request, response: BaseHTTPResponse) -> None:
        REQUESTS.labels(route_label(request), request.method, str(response.status)).inc()

    app.register_middleware(count, "response", priority=90)
