"""Typed access to openai SDK response objects whose attributes are unions in the SDK's types.

The tests know which kind of output item or content part they get back; these helpers hand it
over as `Any` so the checks read plainly instead of narrowing every union.
"""

from __future__ import annotations

from typing import Any

from openai import BaseModel
from openai.types.responses import Response


def output_item(response: Response, index: int = 0) -> Any:
    """The response's output item at `index` (a message, function call, reasoning item...)."""
    return response.output[index]


def first_part(response: Response) -> Any:
    """The first content part of the response's first output item."""
    return output_item(response).content[0]


def extra_field(model: BaseModel, name: str) -> Any:
    """A field the server sends that this SDK version's model does not declare."""
    return getattr(model, name)
