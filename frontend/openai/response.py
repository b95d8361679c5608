"""The Response object Portico returns, as plain dicts.

Owns the object's fields: the echo of the request's settings, ids, and usage. Built once per
request; the stream assembler fills `status`, `output`, `usage` and `completed_at`.

It conforms to OpenAI's `Response` schema and to Open Responses' `ResponseResource` at once:
the latter requires every one of its fields (null where not set: `completed_at` until the
response completes, `max_tool_calls`, `safety_identifier`, ...), including the sampling
penalties that OpenAI's schema does not list (it allows other fields). Where the two differ,
the value is one both accept: `usage` is an object from the start (OpenAI does not allow
null, Open Responses requires the key), zero until the engine reports it.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from inference.protocol import Usage

from ..tool_shapes import hosted, omitted
from .request import (
    CreateResponse,
    CustomTool,
    FunctionTool,
    NamespaceTool,
    ToolChoiceFunction,
    ToolChoiceOther,
)


def new_id(prefix: str) -> str:
    """OpenAI-style ids: `resp_…`, `msg_…`, `fc_…`, `rs_…`, `call_…`."""
    return f"{prefix}_{secrets.token_hex(24)}"


def _tool(tool: Any) -> dict[str, Any]:
    if isinstance(tool, FunctionTool):
        return {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
            "strict": tool.strict,
        }
    if isinstance(tool, CustomTool | NamespaceTool):
        return dict(tool.model_dump(exclude_none=True))
    return dict(tool.model_dump())


def _tool_choice(body: CreateResponse) -> Any:
    choice = body.tool_choice
    if choice is None:
        return "auto"
    if isinstance(choice, ToolChoiceFunction):
        return {"type": "function", "name": choice.name}
    if isinstance(choice, ToolChoiceOther):  # {"type": "custom", "name"} (tool_shapes.py)
        return choice.model_dump(exclude_none=True)
    return choice


def _text(body: CreateResponse) -> dict[str, Any]:
    fmt: dict[str, Any] = {"type": "text"}
    if body.text is not None and body.text.format is not None:
        fmt = body.text.format.model_dump(by_alias=True, exclude_none=True)
        if fmt["type"] == "json_schema":
            # Open Responses requires both; OpenAI's description is a string (not null).
            fmt.setdefault("description", "")
            fmt.setdefault("strict", False)
    verbosity = body.text.verbosity if body.text is not None else None
    return {"format": fmt, "verbosity": verbosity or "medium"}


def _penalty(value: float | None) -> float:
    """A sampling penalty as used: the request's (a native extension), else vLLM's 0."""
    return value if value is not None else 0.0


def skeleton(
    body: CreateResponse, *, response_id: str, model: str, service_tier: str = "default"
) -> dict[str, Any]:
    """The response as created: status in_progress, no output yet. `service_tier`: the tier
    it is served at (frontend/service_tiers.py)."""
    reasoning = body.reasoning
    response: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": bool(body.background),
        "completed_at": None,
        "error": None,
        "frequency_penalty": _penalty(body.frequency_penalty),
        "incomplete_details": None,
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "max_tool_calls": body.max_tool_calls,
        "model": model,
        "output": [],
        "parallel_tool_calls": body.parallel_tool_calls is not False,
        "presence_penalty": _penalty(body.presence_penalty),
        "previous_response_id": body.previous_response_id,
        "prompt_cache_key": body.prompt_cache_key,
        "reasoning": {
            "effort": reasoning.effort if reasoning else None,
            "summary": (reasoning.summary or reasoning.generate_summary) if reasoning else None,
        },
        "safety_identifier": body.safety_identifier,
        "service_tier": service_tier,
        "store": body.store is not False,
        "temperature": body.temperature if body.temperature is not None else 1.0,
        "text": _text(body),
        "tool_choice": _tool_choice(body),
        "tools": [_tool(t) for t in body.tools or [] if not hosted(t)],  # what the model saw
        "top_logprobs": body.top_logprobs if body.top_logprobs is not None else 0,
        "top_p": body.top_p if body.top_p is not None else 1.0,
        "truncation": body.truncation or "disabled",
        "usage": usage(Usage()),
        "metadata": body.metadata or {},
    }
    left_out = omitted(body.tools or [])
    if left_out:  # hosted tools left out of the prompt (tool_shapes.py), recorded visibly
        response["omitted_tools"] = left_out
    if body.user is not None:  # OpenAI's `user` is not nullable, Open Responses has none
        response["user"] = body.user
    return response


def usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": u.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.prompt_tokens + u.completion_tokens,
    }
