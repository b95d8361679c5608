"""Sanic's own exceptions in the one error table: each keeps its status, message and headers."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from sanic import exceptions as sanic_errors

from frontend import errors
from tests import spec

SANIC_EXCEPTIONS = sorted(
    {
        cls
        for cls in vars(sanic_errors).values()
        if inspect.isclass(cls) and issubclass(cls, sanic_errors.SanicException)
    },
    key=lambda cls: cls.__name__,
)
GENERIC = "The server had an error while processing your request."


@pytest.mark.parametrize("cls", SANIC_EXCEPTIONS, ids=lambda cls: cls.__name__)
def test_every_sanic_exception_keeps_its_status(cls: type[sanic_errors.SanicException]) -> None:
    exc = cls("what went wrong")
    error = errors.as_api_error(exc)
    assert error.status == exc.status_code
    body = error.body()
    spec.validate_error(body)
    message = body["error"]["message"]
    if exc.status_code >= 500 and exc.status_code != 503:
        assert (message, body["error"]["type"]) == (GENERIC, "server_error")  # no internals
    elif isinstance(exc, sanic_errors.NotFound):
        assert message == "Not found"
    else:
        assert message == "what went wrong"
    if 400 <= exc.status_code < 500 and exc.status_code not in (401, 429):
        assert body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("exc", "status", "error_type", "code"),
    [
        (sanic_errors.BadRequest("x"), 400, "invalid_request_error", None),
        (sanic_errors.InvalidUsage("x"), 400, "invalid_request_error", None),
        (sanic_errors.InvalidHeader("x"), 400, "invalid_request_error", None),
        (sanic_errors.Unauthorized("x"), 401, "invalid_request_error", "invalid_api_key"),
        (sanic_errors.Forbidden("x"), 403, "invalid_request_error", "forbidden"),
        (sanic_errors.NotFound("x"), 404, "invalid_request_error", "not_found"),
        (
            sanic_errors.FileNotFound("x", Path("/p"), "/r"),
            404,
            "invalid_request_error",
            "not_found",
        ),
        (sanic_errors.MethodNotAllowed("x"), 405, "invalid_request_error", "method_not_allowed"),
        (sanic_errors.RequestTimeout("x"), 408, "invalid_request_error", "request_timeout"),
        (sanic_errors.PayloadTooLarge("x"), 413, "invalid_request_error", "request_too_large"),
        (sanic_errors.URITooLong("x"), 414, "invalid_request_error", "request_uri_too_long"),
        (
            sanic_errors.RangeNotSatisfiable("x"),
            416,
            "invalid_request_error",
            "requested_range_not_satisfiable",
        ),
        (
            sanic_errors.HeaderExpectationFailed("x"),
            417,
            "invalid_request_error",
            "expectation_failed",
        ),
        (
            sanic_errors.SanicException("x", status_code=418),
            418,
            "invalid_request_error",
            "i_m_a_teapot",
        ),
        (
            sanic_errors.SanicException("x", status_code=429),
            429,
            "rate_limit_exceeded",
            "rate_limit_exceeded",
        ),
        (sanic_errors.ServerError("x"), 500, "server_error", "server_error"),
        (sanic_errors.URLBuildError("x"), 500, "server_error", "server_error"),
        (sanic_errors.SanicException("x", status_code=502), 502, "server_error", "bad_gateway"),
        (sanic_errors.ServiceUnavailable("x"), 503, "server_error", "service_unavailable"),
        # a status that is not an error's is a fault of ours
        (sanic_errors.SanicException("x", status_code=302), 500, "server_error", "server_error"),
        (sanic_errors.SanicException("x", status_code=999), 500, "server_error", "server_error"),
    ],
)
def test_sanic_statuses_take_a_type_and_code(
    exc: sanic_errors.SanicException, status: int, error_type: str, code: str | None
) -> None:
    response = errors.to_response(exc)
    assert response.status == status
    body = json.loads(response.body or b"")
    spec.validate_error(body)
    assert (body["error"]["type"], body["error"]["code"]) == (error_type, code)
    assert ("Retry-After" in response.headers) == (status == 503)


def test_sanic_headers_travel_with_the_error() -> None:
    allowed = errors.to_response(sanic_errors.MethodNotAllowed("no", "PUT", ["GET", "POST"]))
    assert allowed.headers["Allow"] == "GET, POST"
    challenged = errors.to_response(sanic_errors.Unauthorized("who?", scheme="Bearer"))
    assert challenged.headers["WWW-Authenticate"] == "Bearer"
