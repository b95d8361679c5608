"""Pure builders of Responses stream events: data in, one event dict out.

Owns each event's exact fields: OpenAI's ResponseStreamEvent members, which are also valid
Open Responses streaming events, and Portico's native extension events (the last section;
frontend/extensions.py names them, streaming/extension_events.py places them). No state: the
assembler decides what happens and passes the sequence number in.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]


def response_event(kind: str, seq: int, response: dict[str, Any]) -> Event:
    """response.created / in_progress / completed / incomplete / failed."""
    return {"type": f"response.{kind}", "sequence_number": seq, "response": response}


def output_item_added(seq: int, index: int, item: dict[str, Any]) -> Event:
    return {
        "type": "response.output_item.added",
        "sequence_number": seq,
        "output_index": index,
        "item": item,
    }


def output_item_done(seq: int, index: int, item: dict[str, Any]) -> Event:
    return {
        "type": "response.output_item.done",
        "sequence_number": seq,
        "output_index": index,
        "item": item,
    }


def content_part(
    kind: str, seq: int, item_id: str, index: int, part_index: int, part: dict[str, Any]
) -> Event:
    """response.content_part.added / done."""
    return {
        "type": f"response.content_part.{kind}",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "content_index": part_index,
        "part": part,
    }


def output_text_delta(
    seq: int, item_id: str, index: int, delta: str, logprobs: list[dict[str, Any]]
) -> Event:
    return {
        "type": "response.output_text.delta",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "content_index": 0,
        "delta": delta,
        "logprobs": logprobs,
    }


def output_text_done(
    seq: int, item_id: str, index: int, text: str, logprobs: list[dict[str, Any]]
) -> Event:
    return {
        "type": "response.output_text.done",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "content_index": 0,
        "text": text,
        "logprobs": logprobs,
    }


def reasoning_text_delta(seq: int, item_id: str, index: int, delta: str) -> Event:
    return {
        "type": "response.reasoning_text.delta",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "content_index": 0,
        "delta": delta,
    }


def reasoning_text_done(seq: int, item_id: str, index: int, text: str) -> Event:
    return {
        "type": "response.reasoning_text.done",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "content_index": 0,
        "text": text,
    }


def arguments_delta(seq: int, item_id: str, index: int, delta: str) -> Event:
    return {
        "type": "response.function_call_arguments.delta",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "delta": delta,
    }


def arguments_done(seq: int, item_id: str, index: int, name: str, arguments: str) -> Event:
    return {
        "type": "response.function_call_arguments.done",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "name": name,
        "arguments": arguments,
    }


def custom_input_delta(seq: int, item_id: str, index: int, delta: str) -> Event:
    return {
        "type": "response.custom_tool_call_input.delta",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "delta": delta,
    }


def custom_input_done(seq: int, item_id: str, index: int, text: str) -> Event:
    return {
        "type": "response.custom_tool_call_input.done",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "input": text,
    }


def error_event(
    seq: int,
    message: str,
    code: str | None,
    param: str | None = None,
    *,
    error_type: str = "server_error",
) -> Event:
    """An `error` event, in both shapes clients read.

    OpenAI's spec (and SDKs generated from it) puts `code`, `message` and `param` on the
    event itself; Open Responses requires them in an `error` object with the error's `type`,
    the shape OpenAI's API sends too. Carrying both serves either kind of client.
    """
    return {
        "type": "error",
        "sequence_number": seq,
        "code": code,
        "message": message,
        "param": param,
        "error": {"type": error_type, "code": code, "message": message, "param": param},
    }


# --- native extension events (never in compatibility mode) --------------------------------
# Each repeats the sequence number of the standard event it accompanies (see extensions.py).


def ping(seq: int) -> Event:
    """`response.ping`: the stream is alive; `seq` is the last event's number."""
    return {"type": "response.ping", "sequence_number": seq}


def rate_limits_updated(seq: int, limits: list[dict[str, Any]]) -> Event:
    """`response.rate_limits.updated`: each limit's `name`, `limit`, `remaining`,
    `reset_seconds` for this request (request.ctx.rate_limits)."""
    return {"type": "response.rate_limits.updated", "sequence_number": seq, "rate_limits": limits}


def additional_context(seq: int, omitted_tools: list[str]) -> Event:
    """`response.additional_context`: what the request asked for that the model was not
    given: the hosted tools left out of the prompt (the Response's `omitted_tools`)."""
    return {
        "type": "response.additional_context",
        "sequence_number": seq,
        "context": {"omitted_tools": omitted_tools},
    }


def tool_call_delta(
    seq: int, item_id: str, index: int, call_id: str, name: str, delta: str
) -> Event:
    """`response.tool_call.delta`: a function call's arguments delta with its call id and
    name, so a tool-output loop needs no other event to know which call it belongs to."""
    return {
        "type": "response.tool_call.delta",
        "sequence_number": seq,
        "item_id": item_id,
        "output_index": index,
        "call_id": call_id,
        "name": name,
        "delta": delta,
    }


def response_error(seq: int, error: dict[str, Any]) -> Event:
    """`response.error`: the failure as one `error` object (type, code, message, param)."""
    return {
        "type": "response.error",
        "sequence_number": seq,
        "error": {
            "type": error.get("type") or "server_error",
            "code": error.get("code"),
            "message": error.get("message") or "",
            "param": error.get("param"),
        },
    }


def alias(event: Event, name: str) -> Event:
    """The same event under a legacy name (extensions.LEGACY_NAMES)."""
    return dict(event, type=name)
