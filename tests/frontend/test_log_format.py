"""The frontend's log lines (frontend/log_format.py): JSON objects or text, with the request
id of the context they were logged in, tracebacks kept, Sanic's access lines readable."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import copy_context

import pytest

from frontend.log_format import (
    REQUEST_ID,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    check_log_format,
)


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord(
        {"name": "portico.test", "levelname": "INFO", "levelno": 20, "msg": message, "args": args}
    )
    made.__dict__.update(extra)
    RequestIdFilter().filter(made)
    return made


def in_request(request_id: str, message: str) -> logging.LogRecord:
    def make() -> logging.LogRecord:
        REQUEST_ID.set(request_id)
        return record(message)

    return copy_context().run(make)


def test_json_lines_are_one_object_with_the_request_id() -> None:
    line = json.loads(JsonFormatter().format(in_request("req-1", "about it")))
    assert line["request_id"] == "req-1" and line["message"] == "about it"
    assert (line["level"], line["logger"]) == ("INFO", "portico.test")
    assert line["ts"].endswith("+00:00")
    outside = json.loads(JsonFormatter().format(record("x %s", 1)))
    assert "request_id" not in outside and outside["message"] == "x 1"


def test_text_lines_end_with_the_id_before_a_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        made = in_request("req-2", "failed")
        made.exc_info = sys.exc_info()
    text = TextFormatter().format(made)
    first, rest = text.split("\n", 1)
    assert first.endswith("portico.test: failed [request_id=req-2]")
    assert "ValueError: boom" in rest
    line = json.loads(JsonFormatter().format(made))
    assert "ValueError: boom" in line["exc_info"]
    assert "\n" not in JsonFormatter().format(made)


def test_access_lines_show_their_fields() -> None:
    access = record("", status=200, request="GET /v1/models", byte=12, host="1.2.3.4:5")
    assert TextFormatter().format(access).endswith("1.2.3.4:5 GET /v1/models 200 12")
    line = json.loads(JsonFormatter().format(access))
    assert (line["status"], line["method_path"], line["bytes"]) == (200, "GET /v1/models", 12)


def test_only_text_and_json() -> None:
    check_log_format("text")
    check_log_format("json")
    with pytest.raises(ValueError, match="expects one of text, json"):
        check_log_format("xml")
