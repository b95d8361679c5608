"""Native mode and compatibility mode, decided in one place.

Owns what exists only in native mode (the default), and how a request learns its mode:

* request fields: vLLM's sampling extensions (EXTENSION_FIELDS). The wire model
  (frontend/openai/request.py) declares them; the compatibility filter
  (middleware/compatibility.py) refuses them as unknown parameters on every route that
  creates a response (`creates_response`: the route's `ctx.creates_response` flag), as OpenAI
  would;
* stream events: EXTENSION_EVENTS, legacy event-name aliases on request (ALIAS_HEADER), pings
  as events rather than SSE comments, and `data: [DONE]` (`stream_mode`, read by the SSE
  writer and the replayer in frontend/streaming/);
* routes: the native-only ones (`require_native`: 404 in compatibility mode).

Every route asks here (`native`, `compatibility`, `stream_mode`), never the setting itself.
docs/compatibility.md has the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sanic import Request, Sanic
from sanic import exceptions as sanic_errors

EXTENSION_FIELDS: tuple[str, ...] = (
    "top_k",
    "min_p",
    "repetition_penalty",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "stop",
    "ignore_eos",
    "priority",
    "chat_template_kwargs",
    "request_id",
)

# The stream events that exist only in native mode (streaming/extension_events.py adds them
# beside OpenAI's events; compatibility mode has none of them). Each carries the
# `sequence_number` of the standard event it accompanies (a ping: of the last event sent), so
# OpenAI's events keep their own numbering 0, 1, 2, ... in both modes.
PING = "response.ping"
RATE_LIMITS = "response.rate_limits.updated"
ADDITIONAL_CONTEXT = "response.additional_context"
TOOL_CALL_DELTA = "response.tool_call.delta"
RESPONSE_ERROR = "response.error"
EXTENSION_EVENTS: tuple[str, ...] = (
    PING,
    RATE_LIMITS,
    ADDITIONAL_CONTEXT,
    TOOL_CALL_DELTA,
    RESPONSE_ERROR,
)

# Legacy event names (shared/spec/responses-stream-events.json, `legacy_names`) of the events
# Portico emits: current name -> old name. Sent beside the current event, on request.
ALIAS_HEADER = "X-Portico-Event-Aliases"
ALIAS_VALUE = "legacy"
LEGACY_NAMES: dict[str, str] = {
    "response.reasoning_text.delta": "response.reasoning.delta",
    "response.reasoning_text.done": "response.reasoning.done",
}

CREATE_PATH = "/v1/responses"  # until every create route carries ctx.creates_response


def compatibility(app_or_request: Sanic | Request) -> bool:
    """Whether the server runs in compatibility mode (only OpenAI's spec)."""
    app = app_or_request.app if isinstance(app_or_request, Request) else app_or_request
    return bool(app.config.COMPATIBILITY_MODE)


def native(app_or_request: Sanic | Request) -> bool:
    """Whether native extensions (fields, events, routes, `[DONE]`) are on."""
    return not compatibility(app_or_request)


def creates_response(request: Request) -> bool:
    """Whether the request's route creates a response (OpenAI's `/v1/responses`, Azure's
    `/openai/...responses`): the route's `ctx.creates_response` flag, else the /v1 path."""
    route = request.route
    flag = getattr(route.ctx, "creates_response", None) if route is not None else None
    if flag is not None:
        return bool(flag)
    return request.path == CREATE_PATH


def refused_field(body: object) -> str | None:
    """The first extension field of a create body, when compatibility mode refuses it."""
    if not isinstance(body, dict):
        return None
    return next((name for name in EXTENSION_FIELDS if name in body), None)


def require_native(request: Request) -> None:
    """A native-only route answers 404 in compatibility mode, as an unknown path would."""
    if compatibility(request):
        raise sanic_errors.NotFound(f"Requested URL {request.path} not found")


@dataclass(frozen=True)
class StreamMode:
    """What one SSE stream carries besides OpenAI's events, decided once per request."""

    native: bool
    ping_interval: float  # idle seconds before a ping (native: an event; else a comment)
    aliases: bool = False  # legacy event names beside the current ones
    rate_limits: tuple[dict[str, Any], ...] = ()  # request.ctx.rate_limits, for the stream

    @property
    def done_marker(self) -> bool:
        """`data: [DONE]` after the last event (native mode only)."""
        return self.native


def stream_mode(request: Request) -> StreamMode:
    """The stream mode of a request, from the server's mode and the request's own options."""
    ping = float(request.app.config.SSE_PING_INTERVAL)
    if compatibility(request):
        return StreamMode(native=False, ping_interval=ping)
    aliases = request.headers.get(ALIAS_HEADER, "").strip().lower() == ALIAS_VALUE
    limits = getattr(request.ctx, "rate_limits", None) or ()
    return StreamMode(
        native=True,
        ping_interval=ping,
        aliases=aliases,
        rate_limits=tuple(dict(limit) for limit in limits),
    )
