"""Validating a JSON body into a wire model, with OpenAI-style errors.

Owns turning pydantic's errors into one InvalidRequest whose `param` names the field
(`tools[0].name`, `input[2].content`), the way OpenAI reports it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)


def param_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif (
            part
            in {
                "function",
                "other",
                "message",
                "function_call",
                "function_call_output",
                "reasoning",
                "str",
                "list[...]",
            }
            or "[" in part
        ):
            continue  # union branch names pydantic adds to locations
        else:
            path += f".{part}" if path else part
    return path


def parse_body(model: type[M], body: Any) -> M:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        # In a union, the deepest error is the one that names what the client got wrong.
        first = max(exc.errors(include_url=False), key=lambda e: len(e["loc"]))
        param = param_path(tuple(first["loc"])) or None
        kind = first["type"]
        if kind == "missing":
            message = f"Missing required parameter: '{param}'."
        elif kind == "extra_forbidden":
            message = f"Unknown parameter: '{param}'."
        else:
            message = f"Invalid value for '{param}': {first['msg']}."
        raise InvalidRequest(message, param=param) from None
