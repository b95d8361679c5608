"""Portico's error tree and the one table that maps errors to HTTP.

Owns the OpenAI error envelope ``{"error": {"message", "type", "param", "code"}}``: every
failure, whether raised here, by Sanic, or sent by the sidecar, leaves through `to_response`.
"""

from __future__ import annotations

import logging
from typing import Any

from sanic import Request, Sanic
from sanic import exceptions as sanic_errors
from sanic.helpers import STATUS_CODES
from sanic.response import HTTPResponse, json

from inference.protocol import ErrorCode, RequestError

from .client.errors import SidecarUnavailable
from .store.base import StoreUnavailable

log = logging.getLogger("portico.errors")


class APIError(Exception):
    status = 400
    type = "invalid_request_error"
    code: str | None = None
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(APIError):
    pass


class ContextLengthExceeded(InvalidRequest):
    code = "context_length_exceeded"


class Unsupported(InvalidRequest):
    code = "unsupported_parameter"


class InvalidEncryptedContent(InvalidRequest):
    code = "invalid_encrypted_content"


class Unauthorized(APIError):
    """A missing, malformed or unknown API key (middleware/auth.py): OpenAI's 401."""

    status, code = 401, "invalid_api_key"


class PermissionDenied(APIError):
    """A key whose scope does not allow the operation (a read-only key's write): 403."""

    status, code = 403, "insufficient_permissions"


class NotFound(APIError):
    status, code = 404, "not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"


class ApiVersionUnsupported(InvalidRequest):
    """Azure OpenAI's 400 for a missing or unknown `api-version` (frontend/azure.py)."""

    code = "BadRequest"


class DeploymentNotFound(NotFound):
    """Azure OpenAI's 404 for a deployment it does not have (frontend/azure.py)."""

    code = "DeploymentNotFound"


class MethodNotAllowed(APIError):
    status, code = 405, "method_not_allowed"


class Conflict(APIError):
    """The request is valid but the resource's state refuses it (409): tool outputs for a
    response that is not waiting for them, or that were already submitted."""

    status, code = 409, "conflict"


class PayloadTooLarge(APIError):
    status, code = 413, "request_too_large"


class RateLimited(APIError):
    status, type, code = 429, "rate_limit_exceeded", "rate_limit_exceeded"


class RateLimitExceeded(RateLimited):
    """A key's requests or tokens per minute are spent (middleware/rate_limit.py): OpenAI's
    429, whose type names the limit ("requests" or "tokens"). `retry_ms` gives Retry-After
    (whole seconds, rounded up) and retry-after-ms; None: waiting cannot help (a request
    larger than the limit), which x-should-retry: false tells the SDKs."""

    def __init__(self, message: str, *, limit: str, retry_ms: int | None) -> None:
        super().__init__(message)
        self.type = limit
        if retry_ms is None:
            self.headers = {"x-should-retry": "false"}
        else:
            retry_ms = max(1, retry_ms)
            seconds = str(-(-retry_ms // 1000))
            self.headers = {"Retry-After": seconds, "retry-after-ms": str(retry_ms)}


class EngineOverloaded(RateLimited):
    """Admission control: this pod's sidecar holds as many generations as it may (its
    capacity plus PORTICO_MAX_QUEUED_REQUESTS), answered at once, never queued."""

    type, code = "server_error", "engine_overloaded"
    headers = {"Retry-After": "1", "retry-after-ms": "1000"}


class ServerError(APIError):
    status, type, code = 500, "server_error", "server_error"


class ServiceUnavailable(APIError):
    status, type, code = 503, "server_error", "service_unavailable"
    headers = {"Retry-After": "5"}


# The sidecar's error codes, as the errors above.
SIDECAR_ERRORS: dict[ErrorCode, type[APIError]] = {
    ErrorCode.INVALID_REQUEST: InvalidRequest,
    ErrorCode.CONTEXT_LENGTH_EXCEEDED: ContextLengthExceeded,
    ErrorCode.UNSUPPORTED: Unsupported,
    ErrorCode.OVERLOADED: ServiceUnavailable,
    ErrorCode.QUEUE_FULL: EngineOverloaded,
    ErrorCode.ENGINE_DEAD: ServiceUnavailable,
    ErrorCode.VERSION_MISMATCH: ServiceUnavailable,
    ErrorCode.BAD_FRAME: ServerError,
    ErrorCode.INTERNAL: ServerError,
}

# Sanic's own exceptions (routing, body parsing, size caps, timeouts, headers): every
# SanicException keeps its own status, message and headers; by status, the error above whose
# type and code it takes. A status not listed is an invalid_request_error (4xx) or a
# server_error (5xx) whose code is the status's reason phrase ("request_timeout",
# "range_not_satisfiable", "expectation_failed", ...). A 5xx other than 503 is a fault of
# ours: its message is the generic one, and it is logged.
SANIC_ERRORS: dict[int, type[APIError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    429: RateLimited,
    500: ServerError,
    503: ServiceUnavailable,
}


def from_sidecar(exc: RequestError) -> APIError:
    return SIDECAR_ERRORS.get(exc.code, ServerError)(exc.message, param=exc.param)


def as_api_error(exc: BaseException) -> APIError:
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, RequestError):
        return from_sidecar(exc)
    if isinstance(exc, SidecarUnavailable | StoreUnavailable):
        return ServiceUnavailable(str(exc))
    if isinstance(exc, sanic_errors.SanicException):
        status = exc.status_code
        if not isinstance(status, int) or not 400 <= status <= 599:
            status = 500
        reason = STATUS_CODES.get(status, b"Error").decode()
        if status >= 500 and status != 503:
            if not exc.quiet:
                log.error("unhandled error", exc_info=exc)
            message = "The server had an error while processing your request."
        elif isinstance(exc, sanic_errors.NotFound):
            message = "Not found"
        else:
            message = str(exc) or reason
        api_cls = SANIC_ERRORS.get(status)
        error = api_cls(message) if api_cls is not None else APIError(message)
        if api_cls is None:
            error.status = status
            error.type = "server_error" if status >= 500 else "invalid_request_error"
            words = "".join(c if c.isalnum() else " " for c in reason.lower()).split()
            error.code = "_".join(words)  # "I'm a teapot": "i_m_a_teapot"
        error.headers = {**error.headers, **{k: str(v) for k, v in (exc.headers or {}).items()}}
        return error
    log.error("unhandled error", exc_info=exc)
    return ServerError("The server had an error while processing your request.")


def to_response(exc: BaseException) -> HTTPResponse:
    error = as_api_error(exc)
    return json(error.body(), status=error.status, headers=error.headers)


def register(app: Sanic) -> None:
    async def handle(request: Request, exc: Exception) -> HTTPResponse:
        return to_response(exc)

    app.error_handler.add(Exception, handle)
