"""Compatibility mode (PORTICO_COMPATIBILITY_MODE): refuse vLLM's extension request fields.

In native mode these fields pass to the sampler; in compatibility mode a request is judged
by OpenAI's spec alone, so an extension field is an unknown parameter (400), as at OpenAI.
Which routes create a response, and which fields are extensions, is frontend/extensions.py's
decision (a route flag, `ctx.creates_response`, so Azure's create routes are filtered too).
"""

from __future__ import annotations

from sanic import Request, Sanic

from frontend import extensions
from frontend.errors import InvalidRequest


def register(app: Sanic) -> None:
    async def refuse_extensions(request: Request) -> None:
        if extensions.native(request) or request.method != "POST":
            return
        if not extensions.creates_response(request):
            return
        name = extensions.refused_field(request.json)
        if name is not None:
            raise InvalidRequest(
                f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter"
            )

    app.register_middleware(refuse_extensions, "request", priority=80)
