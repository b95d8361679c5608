"""The sidecar's log lines (inference/log_format.py): `--log-format` (default
PORTICO_LOG_FORMAT), and the trace id of the generation's task on every record."""

from __future__ import annotations

import json
import logging
from contextvars import copy_context

import pytest

from inference.__main__ import base_parser
from inference.log_format import TRACE_ID, JsonFormatter, TextFormatter, TraceIdFilter


def traced(trace_id: str | None) -> logging.LogRecord:
    def make() -> logging.LogRecord:
        TRACE_ID.set(trace_id)
        made = logging.makeLogRecord({"name": "portico.sidecar", "msg": "generation started"})
        TraceIdFilter().filter(made)
        return made

    return copy_context().run(make)


def test_records_carry_the_generations_trace_id() -> None:
    line = json.loads(JsonFormatter().format(traced("abc-1")))
    assert (line["request_id"], line["logger"], line["message"]) == (
        "abc-1",
        "portico.sidecar",
        "generation started",
    )
    assert "request_id" not in json.loads(JsonFormatter().format(traced(None)))
    assert TextFormatter().format(traced("abc-1")).endswith("started [request_id=abc-1]")


def test_the_flag_defaults_to_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    def chosen(*argv: str) -> str:
        return str(base_parser().parse_known_args(["--socket", "s", *argv])[0].log_format)

    monkeypatch.delenv("PORTICO_LOG_FORMAT", raising=False)
    assert chosen() == "text"
    assert chosen("--log-format", "json") == "json"
    monkeypatch.setenv("PORTICO_LOG_FORMAT", "json")
    assert chosen() == "json"
    assert chosen("--log-format", "text") == "text"
    with pytest.raises(SystemExit):
        chosen("--log-format", "xml")
