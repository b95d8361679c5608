"""The body of `POST /v1/responses/{id}/tool_outputs` (Portico's native extension).

Owns the request's shape only: `tool_outputs`, one `{call_id, output}` per pending call
(the output a string or text parts, as a `function_call_output` input item's), and `stream`.
Whether the outputs fit the response's pending calls is frontend/sessions.py's business.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .request import ContentPart, Wire


class ToolOutput(Wire):
    call_id: Annotated[str, Field(min_length=1)]
    output: str | list[ContentPart]


class ToolOutputsRequest(Wire):
    tool_outputs: Annotated[list[ToolOutput], Field(min_length=1)]
    stream: bool | None = False
