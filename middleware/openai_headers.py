"""OpenAI's response headers, on every response (JSON, SSE and errors alike).

`openai-version: 2020-10-01` (the API version OpenAI names), `openai-processing-ms` (whole
milliseconds from the request's arrival to its response headers: for a stream, to its first
bytes), and `openai-organization` (OPENAI_ORGANIZATION, left out when empty). The request
id header is middleware/request_id.py's.
"""

from __future__ import annotations

import time

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

VERSION = "2020-10-01"


def _arrived(request: Request) -> float | None:
    """When the request arrived (time.perf_counter): when the HTTP/1 server finished reading
    its head, else when this layer first saw it."""
    started = getattr(request.stream, "perft0", None)
    if isinstance(started, float):
        return started
    seen = getattr(request.ctx, "arrived", None)
    return seen if isinstance(seen, float) else None


def register(app: Sanic) -> None:
    async def arrive(request: Request) -> None:
        request.ctx.arrived = time.perf_counter()

    async def add_headers(request: Request, response: BaseHTTPResponse) -> None:
        headers = response.headers
        headers["openai-version"] = VERSION
        arrived = _arrived(request)
        if arrived is not None:
            elapsed = max(0.0, time.perf_counter() - arrived)
            headers["openai-processing-ms"] = str(round(elapsed * 1000))
        organization = request.app.config.OPENAI_ORGANIZATION
        if organization:
            headers["openai-organization"] = organization

    app.register_middleware(arrive, "request", priority=1000)  # first of all
    app.register_middleware(add_headers, "response", priority=1000)  # last of all
