"""Request ids: keep the caller's `X-Request-Id` (or make one), echo it on every response
(JSON, SSE and errors alike), and tag every log line of the request with it.

- The header is kept when it is one value of 1 to 128 characters among `A-Z a-z 0-9 . _ : -`;
  anything else (missing, empty, longer, non-ASCII, spaces, sent twice) gets a fresh
  `req_<32 hex>`: a hostile value is never echoed, logged or refused.
- The id is `request.ctx.request_id` and frontend/log_format.py's REQUEST_ID for the task
  serving the request (tasks it starts inherit it), so every log line about the request
  carries it; the sidecar gets it as GenerateRequest.trace_id.
- A create body's `request_id` (vLLM's extension field; native mode only: compatibility
  mode refuses the field first) must equal the header when both are given: 400
  `request_id_mismatch`, param `request_id`. Without a usable header it is the request's id
  (it must then be a valid id itself: 400 `invalid_value` otherwise).
"""

from __future__ import annotations

import re
import uuid

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from frontend import extensions
from frontend.errors import InvalidRequest
from frontend.log_format import REQUEST_ID

HEADER = "X-Request-Id"
BODY_FIELD = "request_id"
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def valid(value: str) -> bool:
    return _SAFE.fullmatch(value) is not None


def new_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def from_header(request: Request) -> str | None:
    """The caller's id, when the header holds exactly one valid value."""
    values = request.headers.getall(HEADER, [])
    if len(values) != 1 or not valid(values[0]):
        return None
    return str(values[0])


def _body_id(request: Request) -> object:
    """The create body's `request_id`, or None (no body, not JSON: the route reports it)."""
    if request.method != "POST" or not request.body or not extensions.creates_response(request):
        return None
    try:
        body = request.json
    except Exception:
        return None
    return body.get(BODY_FIELD) if isinstance(body, dict) else None


def register(app: Sanic) -> None:
    async def assign(request: Request) -> None:
        if getattr(request.ctx, "request_id", None) is None:  # (error responses run it again)
            given = from_header(request)
            request.ctx.header_id = given
            request.ctx.request_id = given or new_id()
        REQUEST_ID.set(request.ctx.request_id)

    async def adopt_body_id(request: Request) -> None:
        if extensions.compatibility(request):
            return  # the field is refused as unknown (middleware/compatibility.py)
        body_id = _body_id(request)
        if not isinstance(body_id, str):
            return  # absent, or not a string: the wire model refuses it
        header_id = getattr(request.ctx, "header_id", None)
        if header_id is not None:
            if body_id != header_id:
                raise InvalidRequest(
                    f"The body's request_id does not match the {HEADER} header "
                    f"('{header_id}'); send the same id in both, or one of them.",
                    param=BODY_FIELD,
                    code="request_id_mismatch",
                )
            return
        if not valid(body_id):
            raise InvalidRequest(
                "request_id must be 1 to 128 characters among A-Z a-z 0-9 . _ : -.",
                param=BODY_FIELD,
                code="invalid_value",
            )
        request.ctx.request_id = body_id
        REQUEST_ID.set(body_id)

    async def echo(request: Request, response: BaseHTTPResponse) -> None:
        request_id = getattr(request.ctx, "request_id", None)
        response.headers[HEADER] = request_id or new_id()

    app.register_middleware(assign, "request", priority=100)  # before auth: every line
    app.register_middleware(adopt_body_id, "request", priority=79)  # after compatibility
    app.register_middleware(echo, "response", priority=100)
