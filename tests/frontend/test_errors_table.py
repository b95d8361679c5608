"""errors.py in-process: every error, whoever raises it, leaves as OpenAI's envelope."""

from __future__ import annotations

import json

import pytest
from sanic import exceptions as sanic_errors

from frontend import errors
from frontend.client.errors import SidecarUnavailable
from inference.protocol import ErrorCode, RequestError
from tests import spec

GENERIC = "The server had an error while processing your request."

SIDECAR_STATUS: dict[ErrorCode, tuple[int, str, str | None]] = {
    ErrorCode.INVALID_REQUEST: (400, "invalid_request_error", None),
    ErrorCode.CONTEXT_LENGTH_EXCEEDED: (400, "invalid_request_error", "context_length_exceeded"),
    ErrorCode.UNSUPPORTED: (400, "invalid_request_error", "unsupported_parameter"),
    ErrorCode.OVERLOADED: (503, "server_error", "service_unavailable"),
    ErrorCode.QUEUE_FULL: (429, "server_error", "engine_overloaded"),
    ErrorCode.ENGINE_DEAD: (503, "server_error", "service_unavailable"),
    ErrorCode.VERSION_MISMATCH: (503, "server_error", "service_unavailable"),
    ErrorCode.BAD_FRAME: (500, "server_error", "server_error"),
    ErrorCode.INTERNAL: (500, "server_error", "server_error"),
}


def envelope(error: errors.APIError) -> dict[str, object]:
    body = error.body()
    spec.validate_error(body)
    assert list(body) == ["error"]
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_every_sidecar_code_is_in_the_table() -> None:
    assert set(errors.SIDECAR_ERRORS) == set(ErrorCode)
    assert set(SIDECAR_STATUS) == set(ErrorCode)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_sidecar_codes_map_to_statuses(code: ErrorCode) -> None:
    status, error_type, error_code = SIDECAR_STATUS[code]
    error = errors.as_api_error(RequestError(code, "went wrong", param="input"))
    assert (error.status, error.type, error.code) == (status, error_type, error_code)
    assert envelope(error) == {
        "message": "went wrong",
        "type": error_type,
        "param": "input",
        "code": error_code,
    }
    if status == 503:
        assert error.headers.get("Retry-After")


def test_a_lost_sidecar_is_503_with_retry_after() -> None:
    response = errors.to_response(SidecarUnavailable("connection closed"))
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    assert response.content_type == "application/json"
    body = json.loads(response.body or b"")
    spec.validate_error(body)
    assert body["error"]["type"] == "server_error"
    assert body["error"]["code"] == "service_unavailable"
    assert "connection closed" in body["error"]["message"]


@pytest.mark.parametrize(
    ("error", "status", "error_type", "code"),
    [
        (errors.InvalidRequest("bad"), 400, "invalid_request_error", None),
        (
            errors.ContextLengthExceeded("long"),
            400,
            "invalid_request_error",
            "context_length_exceeded",
        ),
        (errors.Unsupported("no"), 400, "invalid_request_error", "unsupported_parameter"),
        (errors.Unauthorized("who"), 401, "invalid_request_error", "invalid_api_key"),
        (errors.NotFound("gone"), 404, "invalid_request_error", "not_found"),
        (errors.ModelNotFound("gone"), 404, "invalid_request_error", "model_not_found"),
        (errors.MethodNotAllowed("no"), 405, "invalid_request_error", "method_not_allowed"),
        (errors.PayloadTooLarge("big"), 413, "invalid_request_error", "request_too_large"),
        (errors.RateLimited("slow"), 429, "rate_limit_exceeded", "rate_limit_exceeded"),
        (errors.ServerError("oops"), 500, "server_error", "server_error"),
        (errors.ServiceUnavailable("later"), 503, "server_error", "service_unavailable"),
    ],
)
def test_api_errors_keep_their_status_and_body(
    error: errors.APIError, status: int, error_type: str, code: str | None
) -> None:
    assert errors.as_api_error(error) is error
    response = errors.to_response(error)
    assert response.status == status
    body = json.loads(response.body or b"")
    assert body["error"] == envelope(error)
    assert body["error"]["type"] == error_type
    assert body["error"]["code"] == code
    assert ("Retry-After" in response.headers) == (status == 503)


def test_param_and_code_can_be_given() -> None:
    error = errors.NotFound("x", param="previous_response_id", code="previous_response_not_found")
    assert envelope(error) == {
        "message": "x",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    assert errors.NotFound("y").code == "not_found"  # the class default is untouched


@pytest.mark.parametrize(
    ("exc", "status", "code", "message"),
    [
        (sanic_errors.NotFound("no route /x"), 404, "not_found", "Not found"),
        (sanic_errors.BadRequest("bad json"), 400, None, "bad json"),
        (sanic_errors.MethodNotAllowed("no", "PUT", ["GET"]), 405, "method_not_allowed", "no"),
        (sanic_errors.PayloadTooLarge("too big"), 413, "request_too_large", "too big"),
        (sanic_errors.RequestTimeout("slow"), 408, "request_timeout", "slow"),
        (sanic_errors.RangeNotSatisfiable("r"), 416, "requested_range_not_satisfiable", "r"),
        (sanic_errors.ServerError("secret detail"), 500, "server_error", GENERIC),
        (sanic_errors.ServiceUnavailable("busy"), 503, "service_unavailable", "busy"),
    ],
)
def test_sanic_errors_take_the_envelope(
    exc: sanic_errors.SanicException, status: int, code: str | None, message: str
) -> None:
    error = errors.as_api_error(exc)
    assert error.status == status
    body = envelope(error)
    assert body["code"] == code
    assert body["message"] == message
    assert body["type"] == ("server_error" if status >= 500 else "invalid_request_error")


def test_sanic_headers_are_kept_and_503_retries() -> None:
    error = errors.as_api_error(sanic_errors.ServiceUnavailable("busy", headers={"X-A": "1"}))
    assert error.headers == {"Retry-After": "5", "X-A": "1"}
    assert errors.ServiceUnavailable.headers == {"Retry-After": "5"}  # class left alone


def test_anything_else_is_a_generic_500() -> None:
    error = errors.as_api_error(KeyError("internal detail"))
    assert isinstance(error, errors.ServerError)
    assert error.status == 500
    assert envelope(error)["message"] == GENERIC
