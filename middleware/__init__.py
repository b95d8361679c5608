"""The middleware stack, in order: OpenAI headers → request id → API keys and tenants →
admission (draining) → Azure dialect (api-version, deployments, headers) → rate limits →
compatibility filter → request metrics.

Body caps are Sanic's REQUEST_MAX_SIZE (PORTICO_MAX_BODY_BYTES), answered as an OpenAI 413
by frontend/errors.py before any body is read.
"""

from __future__ import annotations

from sanic import Sanic

from . import (
    admission,
    auth,
    azure,
    compatibility,
    openai_headers,
    rate_limit,
    request_id,
    request_metrics,
)

STACK = (
    openai_headers,
    request_id,
    auth,
    admission,
    azure,
    rate_limit,
    compatibility,
    request_metrics,
)


def register(app: Sanic) -> None:
    for layer in STACK:
        layer.register(app)
