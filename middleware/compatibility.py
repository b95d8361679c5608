"""Compatibility mode (PORTICO_COMPATIBILITY_MODE): refuse vLLM's extension request fields.

In native mode these fields pass to the sampler; in compatibility mode a request is judged
by OpenAI's spec alone, so an extension field is an unknown parameter (400), as at OpenAI.
"""

from __future__ import annotations

from sanic import Request, Sanic

from frontend.errors import InvalidRequest
from frontend.extensions import EXTENSION_FIELDS


def register(app: Sanic) -> None:
    async def refuse_extensions(request: Request) -> None:
        if not request.app.config.COMPATIBILITY_MODE or request.method != "POST":
            return
        if request.path != "/v1/responses":
            return
        body = request.json
        if not isinstance(body, dict):
            return
        for name in EXTENSION_FIELDS:
            if name in body:
                raise InvalidRequest(f"Unknown parameter: '{name}'.", param=name)

    app.register_middleware(refuse_extensions, "request", priority=80)
