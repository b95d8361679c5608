"""The middleware stack, in order: request id → compatibility filter → request metrics.

Later layers (API keys and Azure auth, rate limits) slot into STACK; body caps are Sanic's
REQUEST_MAX_SIZE (PORTICO_MAX_BODY_BYTES), answered as an OpenAI 413 by frontend/errors.py.
"""

from __future__ import annotations

from sanic import Sanic

from . import compatibility, request_id, request_metrics

STACK = (request_id, compatibility, request_metrics)


def register(app: Sanic) -> None:
    for layer in STACK:
        layer.register(app)
