"""Portico's error tree and the one table that maps errors to HTTP.

Owns the OpenAI error envelope ``{"error": {"message", "type", "param", "code"}}``: every
failure, whether raised here, by Sanic, or sent by the sidecar, leaves through `to_response`.
"""

from __future__ import annotations

import logging
from typing import Any

from sanic import Request, Sanic
from sanic import exceptions as sanic_errors
from sanic.response import HTTPResponse, json

from inference.protocol import ErrorCode, RequestError

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


class Unauthorized(APIError):
    status, type, code = 401, "authentication_error", "invalid_api_key"


class NotFound(APIError):
    status, code = 404, "not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"


class MethodNotAllowed(APIError):
    status, code = 405, "method_not_allowed"


class PayloadTooLarge(APIError):
    status, code = 413, "request_too_large"


class RateLimited(APIError):
    status, type, code = 429, "rate_limit_exceeded", "rate_limit_exceeded"


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
    ErrorCode.ENGINE_DEAD: ServiceUnavailable,
    ErrorCode.VERSION_MISMATCH: ServiceUnavailable,
    ErrorCode.BAD_FRAME: ServerError,
    ErrorCode.INTERNAL: ServerError,
}

# Sanic's own exceptions (routing, body parsing, size caps), as the errors above.
SANIC_ERRORS: dict[type[Exception], type[APIError]] = {
    sanic_errors.NotFound: NotFound,
    sanic_errors.MethodNotAllowed: MethodNotAllowed,
    sanic_errors.PayloadTooLarge: PayloadTooLarge,
    sanic_errors.BadRequest: InvalidRequest,
    sanic_errors.RequestTimeout: InvalidRequest,
    sanic_errors.ServiceUnavailable: ServiceUnavailable,
}


def from_sidecar(exc: RequestError) -> APIError:
    return SIDECAR_ERRORS.get(exc.code, ServerError)(exc.message, param=exc.param)


def as_api_error(exc: BaseException) -> APIError:
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, RequestError):
        return from_sidecar(exc)
    for sanic_cls, api_cls in SANIC_ERRORS.items():
        if isinstance(exc, sanic_cls):
            message = str(exc) or type(exc).__name__
            if isinstance(exc, sanic_errors.NotFound):
                message = "Not found"
            return api_cls(message)
    log.error("unhandled error", exc_info=exc)
    return ServerError("The server had an error while processing your request.")


def to_response(exc: BaseException) -> HTTPResponse:
    error = as_api_error(exc)
    return json(error.body(), status=error.status, headers=error.headers)


def register(app: Sanic) -> None:
    async def handle(request: Request, exc: Exception) -> HTTPResponse:
        return to_response(exc)

    app.error_handler.add(Exception, handle)
