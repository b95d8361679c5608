"""Prompts: protocol chat messages and tools rendered through the model's chat template.

Owns the messages' dict form for Jinja templates (tool-call arguments as objects) and the
choice of template (the model's own, or --chat-template).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inference.protocol import ChatMessage, ErrorCode, RequestError, Tool


def load_template(value: str | None) -> str | None:
    """--chat-template: a file path, or the template text itself."""
    if value is None:
        return None
    path = Path(value)
    return path.read_text() if path.is_file() else value


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def message_dicts(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    out = []
    for m in messages:
        d: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.reasoning:
            d["reasoning_content"] = m.reasoning
        if m.tool_calls:
            d["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": _arguments(c.arguments)},
                }
                for c in m.tool_calls
            ]
        if m.tool_call_id is not None:
            d["tool_call_id"] = m.tool_call_id
        if m.name is not None:
            d["name"] = m.name
        out.append(d)
    return out


def tool_dicts(tools: list[Tool]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description or "",
                "parameters": t.parameters,
            },
        }
        for t in tools
    ]


def render(
    tokenizer: Any,
    messages: list[ChatMessage],
    tools: list[Tool],
    *,
    template: str | None,
    template_kwargs: dict[str, Any],
) -> list[int]:
    """The prompt's token ids (the template adds any BOS itself)."""
    try:
        text = tokenizer.apply_chat_template(
            message_dicts(messages),
            tools=tool_dicts(tools) or None,
            add_generation_prompt=True,
            tokenize=False,
            chat_template=template,
            **template_kwargs,
        )
    except Exception as exc:  # a template raising on this conversation is the caller's input
        raise RequestError(
            ErrorCode.INVALID_REQUEST, f"The chat template rejected the input: {exc}", "input"
        ) from None
    return list(tokenizer.encode(text, add_special_tokens=False))
