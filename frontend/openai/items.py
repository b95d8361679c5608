"""A request's input as the items `GET /v1/responses/{id}/input_items` lists.

Owns the shape OpenAI returns them in: every item has an id (the client's, else a new one)
and a status; message content is a list of parts (a string, or any text part, becomes an
`input_text` part, or `output_text` for an assistant message). Built at create time, after
translate.py accepted the input, so only item and part types Portico serves reach it.
"""

from __future__ import annotations

from typing import Any

from .request import (
    ContentPart,
    CreateResponse,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    MessageItem,
    ReasoningItem,
)
from .response import new_id

DONE = "completed"


def _part(part: ContentPart, assistant: bool) -> dict[str, Any]:
    """A text part as the item's role allows it: `input_text` for an input message;
    `output_text` (or `refusal`) for an assistant's."""
    text = part.text or ""
    if not assistant:
        return {"type": "input_text", "text": text}
    if part.type == "refusal":
        return {"type": "refusal", "refusal": text}
    extra = part.model_extra or {}
    return {
        "type": "output_text",
        "text": text,
        "annotations": extra.get("annotations") or [],
        "logprobs": extra.get("logprobs") or [],
    }


def _content(content: str | list[ContentPart], assistant: bool) -> list[dict[str, Any]]:
    if isinstance(content, str):
        if assistant:
            return [{"type": "output_text", "text": content, "annotations": [], "logprobs": []}]
        return [{"type": "input_text", "text": content}]
    return [_part(p, assistant) for p in content]


def _message(item: MessageItem) -> dict[str, Any]:
    assistant = item.role == "assistant"
    return {
        "type": "message",
        "id": item.id or new_id("msg"),
        "role": item.role,
        "status": item.status or DONE,
        "content": _content(item.content, assistant),
    }


def _tool_output(output: Any) -> Any:
    """A tool call's output as listed: its text, or its parts as input_text parts."""
    if isinstance(output, str):
        return output
    return [{"type": "input_text", "text": p.text or ""} for p in output]


def _item(item: Any) -> dict[str, Any]:
    if isinstance(item, MessageItem):
        return _message(item)
    if isinstance(item, FunctionCallItem):
        call: dict[str, Any] = {
            "type": "function_call",
            "id": item.id or new_id("fc"),
            "call_id": item.call_id,
            "name": item.name,
            "arguments": item.arguments,
            "status": item.status or DONE,
        }
        namespace = (item.model_extra or {}).get("namespace")
        if isinstance(namespace, str):
            call["namespace"] = namespace
        return call
    if isinstance(item, CustomToolCallItem):
        custom: dict[str, Any] = {
            "type": "custom_tool_call",
            "id": item.id or new_id("ctc"),
            "call_id": item.call_id,
            "name": item.name,
            "input": item.input,
        }
        if item.namespace is not None:
            custom["namespace"] = item.namespace
        return custom
    if isinstance(item, CustomToolCallOutputItem):
        return {
            "type": "custom_tool_call_output",
            "id": item.id or new_id("ctco"),
            "call_id": item.call_id,
            "output": _tool_output(item.output),
        }
    if isinstance(item, FunctionCallOutputItem):
        return {
            "type": "function_call_output",
            "id": item.id or new_id("fco"),
            "call_id": item.call_id,
            "output": _tool_output(item.output),
            "status": item.status or DONE,
        }
    if isinstance(item, ReasoningItem):
        reasoning: dict[str, Any] = {
            "type": "reasoning",
            "id": item.id or new_id("rs"),
            "summary": [{"type": "summary_text", "text": p.text or ""} for p in item.summary],
            "status": DONE,
        }
        if item.content:
            reasoning["content"] = [
                {"type": "reasoning_text", "text": p.text or ""} for p in item.content
            ]
        if item.encrypted_content is not None:
            reasoning["encrypted_content"] = item.encrypted_content
        return reasoning
    raise TypeError(f"input items of type {item.type!r} are refused before they are stored")


def input_items(body: CreateResponse) -> list[dict[str, Any]]:
    """The request's `input` as resource items, in order."""
    if isinstance(body.input, str):
        return [_message(MessageItem(role="user", content=body.input))]
    return [_item(item) for item in body.input]
