"""The frontend's log lines: `text` or `json` (PORTICO_LOG_FORMAT), each carrying the id of
the request it is about.

Owns the request-id context variable (set by middleware/request_id.py for the task that
serves a request; tasks started from it inherit it, so a background run's lines carry it
too), the filter that puts it on every record, the two formatters, and the configuration:
Sanic's loggers through the app's `log_config`, Portico's own (`portico.*`, at
PORTICO_LOG_LEVEL, default INFO) through one handler on the root logger.

A `json` line is one object: `ts` (UTC, ISO 8601 with milliseconds), `level`, `logger`,
`message`, `request_id` when the line is about a request, `exc_info` with a traceback, and
an access line's `status`, `method_path`, `bytes`, `host`. A `text` line is
`TS LEVEL LOGGER: MESSAGE [request_id=ID]`. The sidecar writes the same two formats
(inference/log_format.py: the two images share no module but the protocol).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
REQUEST_ID: ContextVar[str | None] = ContextVar("portico_request_id", default=None)
LEVEL_ENV = "PORTICO_LOG_LEVEL"
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Sanic's access record carries these (sanic/http/http1.py: log_response), its message is "".
ACCESS_FIELDS = {"host": "host", "request": "method_path", "status": "status", "byte": "bytes"}


def check_log_format(text: str) -> None:
    """A Setting check (ValueError completes "<flag> ...")."""
    if text not in FORMATS:
        raise ValueError(f"expects one of {', '.join(FORMATS)}, not {text!r}")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


def _access(record: logging.LogRecord) -> dict[str, Any]:
    return {
        out: getattr(record, name)
        for name, out in ACCESS_FIELDS.items()
        if getattr(record, name, None) not in (None, "")
    }


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
        line.update(_access(record))
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT)

    def format(self, record: logging.LogRecord) -> str:
        access = _access(record)
        if access and not record.getMessage():  # an access line: its fields are its text
            text = " ".join(str(value) for value in access.values())
            record = logging.makeLogRecord({**record.__dict__, "msg": text, "args": None})
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            return text
        head, _, tail = text.partition("\n")  # the id ends the first line, before a traceback
        return f"{head} [request_id={request_id}]" + ("\n" + tail if tail else "")


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def sanic_log_config(fmt: str) -> dict[str, Any]:
    """Sanic's `log_config` (logging.config.dictConfig): its loggers in this format, with
    the request id, to stdout (errors to stderr), not propagated to the root logger."""
    handler = {"class": "logging.StreamHandler", "formatter": "portico", "filters": ["rid"]}
    loggers = {
        name: {"level": "INFO", "handlers": [stream], "propagate": False}
        for name, stream in (
            ("sanic.root", "out"),
            ("sanic.server", "out"),
            ("sanic.websockets", "out"),
            ("sanic.access", "out"),
            ("sanic.error", "err"),
        )
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"rid": {"()": RequestIdFilter}},
        "formatters": {"portico": {"()": formatter, "fmt": fmt}},
        "handlers": {
            "out": {**handler, "stream": "ext://sys.stdout"},
            "err": {**handler, "stream": "ext://sys.stderr"},
        },
        "loggers": loggers,
    }


class _PorticoHandler(logging.StreamHandler):
    """The one handler `configure` puts on the root logger (found again by its class)."""


def configure(fmt: str) -> None:
    """Portico's own loggers (`portico.*`) in this format, with the request id, to stderr:
    one handler on the root logger, replacing an earlier one of ours (others are kept)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _PorticoHandler)]:
        root.removeHandler(old)
    handler = _PorticoHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    level = os.environ.get(LEVEL_ENV, "INFO").upper()
    known = level in logging.getLevelNamesMapping()
    logging.getLogger("portico").setLevel(level if known else "INFO")
