"""The sidecar's log lines: `text` or `json` (`--log-format`, default PORTICO_LOG_FORMAT, else
text), each carrying the frontend's request id of the generation it is about.

Owns the trace-id context variable (set by the server for each generation's task, from
GenerateRequest.trace_id), the filter that puts it on every record as `request_id`, the two
formatters and the root logger's configuration. The line formats are the frontend's
(frontend/log_format.py; the two images share no module but the protocol): `json` is one
object a line with `ts`, `level`, `logger`, `message`, `request_id` when known, `exc_info`;
`text` is `TS LEVEL LOGGER: MESSAGE [request_id=ID]`.
"""

from __future__ import annotations

import json
import logging
import os
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
FORMAT_ENV = "PORTICO_LOG_FORMAT"
LEVEL_ENV = "PORTICO_LOG_LEVEL"
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TRACE_ID: ContextVar[str | None] = ContextVar("portico_trace_id", default=None)


def default_format() -> str:
    """PORTICO_LOG_FORMAT when it names a format, else text."""
    value = os.environ.get(FORMAT_ENV, "text")
    return value if value in FORMATS else "text"


class TraceIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = TRACE_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            return text
        head, _, tail = text.partition("\n")  # the id ends the first line, before a traceback
        return f"{head} [request_id={request_id}]" + ("\n" + tail if tail else "")


def configure(fmt: str) -> None:
    """The root logger at PORTICO_LOG_LEVEL (default INFO), to stderr, in this format. In
    json, vLLM's own loggers are left to the root logger too (VLLM_CONFIGURE_LOGGING=0,
    unless set), so its lines are JSON as well."""
    if fmt == "json":
        os.environ.setdefault("VLLM_CONFIGURE_LOGGING", "0")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(TraceIdFilter())
    level = os.environ.get(LEVEL_ENV, "INFO").upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "INFO",
        handlers=[handler],
        force=True,
    )
