"""Request ids: keep the caller's `X-Request-ID` (or make one) and echo it on the response."""

from __future__ import annotations

import re
import uuid

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

HEADER = "X-Request-ID"
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def register(app: Sanic) -> None:
    async def assign(request: Request) -> None:
        given = request.headers.get(HEADER, "")
        request.ctx.request_id = given if _SAFE.match(given) else f"req_{uuid.uuid4().hex}"

    async def echo(request: Request, response: BaseHTTPResponse) -> None:
        request_id = getattr(request.ctx, "request_id", None)
        if request_id:
            response.headers[HEADER] = request_id

    app.register_middleware(assign, "request", priority=100)
    app.register_middleware(echo, "response", priority=100)
