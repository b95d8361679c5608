"""Hand-written spec bodies and Responses event streams for the tests of ``tests.spec``.

This module owns the samples the package's tests start from (a minimal complete
``Response``, its output items, a text stream and a reasoning + tool-call stream, all
valid), the ``needs_spec`` skip marker and the ``fails`` helper that expects a check to
raise.  It is not a test module: pytest does not collect it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import spec

needs_spec = pytest.mark.skipif(
    not (spec.spec_dir() / spec.OPENAPI_FILE).is_file(),
    reason=f"no OpenAPI spec in {spec.spec_dir()} (set {spec.SPEC_DIR_ENV})",
)

RESP_ID = "resp_0123456789abcdef"
MSG_ID = "msg_0123456789abcdef"
FC_ID = "fc_0123456789abcdef"
RS_ID = "rs_0123456789abcdef"


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message(text: str, status: str = "completed") -> dict[str, Any]:
    content = [output_text(text)] if status == "completed" else []
    return {
        "type": "message",
        "id": MSG_ID,
        "role": "assistant",
        "status": status,
        "content": content,
    }


def usage(input_tokens: int = 5, output_tokens: int = 2) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def response(status: str = "completed", output: list[Any] | None = None) -> dict[str, Any]:
    """A minimal Response valid under both specs, with every field Open Responses requires.

    OpenAI types `usage` as a ResponseUsage object (not nullable) and Open Responses
    requires the key, so a running response carries a zero usage; `user` is left out
    (OpenAI types it as a string, Open Responses does not require it).
    """
    done = status in ("completed", "incomplete", "failed")
    return {
        "id": RESP_ID,
        "object": "response",
        "created_at": 1_760_000_000,
        "status": status,
        "background": False,
        "completed_at": 1_760_000_001 if status == "completed" else None,
        "error": None,
        "frequency_penalty": 0.0,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": "qwen3-0.6b",
        "output": [message("Hello!")] if output is None else output,
        "parallel_tool_calls": True,
        "presence_penalty": 0.0,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage() if done else usage(0, 0),
        "metadata": {},
    }


def text_stream(deltas: tuple[str, ...] = ("Hel", "lo!")) -> list[dict[str, Any]]:
    """The event stream of a short text answer, numbered from 0."""
    text = "".join(deltas)
    where = {"item_id": MSG_ID, "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response("in_progress", [])},
        {"type": "response.in_progress", "response": response("in_progress", [])},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": message("", status="in_progress"),
        },
        {"type": "response.content_part.added", **where, "part": output_text("")},
        *(
            {"type": "response.output_text.delta", **where, "delta": d, "logprobs": []}
            for d in deltas
        ),
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": output_text(text)},
        {"type": "response.output_item.done", "output_index": 0, "item": message(text)},
        {"type": "response.completed", "response": response("completed", [message(text)])},
    ]
    return renumber(events)


def renumber(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def function_call(arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": FC_ID,
        "call_id": "call_abc",
        "name": "get_weather",
        "arguments": arguments,
        "status": status,
    }


def reasoning(text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "reasoning_text", "text": text}] if text else []
    return {"type": "reasoning", "id": RS_ID, "summary": [], "content": content, "status": status}


def tool_stream() -> list[dict[str, Any]]:
    """Reasoning, then a function call: the stream of a tool-calling turn."""
    args = '{"city": "Paris"}'
    final = [reasoning("Use the tool."), function_call(args)]
    rs = {"item_id": RS_ID, "output_index": 0, "content_index": 0}
    fc = {"item_id": FC_ID, "output_index": 1}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response("in_progress", [])},
        {"type": "response.in_progress", "response": response("in_progress", [])},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": reasoning("", "in_progress"),
        },
        {"type": "response.reasoning_text.delta", **rs, "delta": "Use the "},
        {"type": "response.reasoning_text.delta", **rs, "delta": "tool."},
        {"type": "response.reasoning_text.done", **rs, "text": "Use the tool."},
        {"type": "response.output_item.done", "output_index": 0, "item": final[0]},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": function_call("", "in_progress"),
        },
        {"type": "response.function_call_arguments.delta", **fc, "delta": '{"city": '},
        {"type": "response.function_call_arguments.delta", **fc, "delta": '"Paris"}'},
        {
            "type": "response.function_call_arguments.done",
            **fc,
            "name": "get_weather",
            "arguments": args,
        },
        {"type": "response.output_item.done", "output_index": 1, "item": final[1]},
        {"type": "response.completed", "response": response("completed", final)},
    ]
    return renumber(events)


def fails(check: Any, *args: Any, match: str) -> str:
    with pytest.raises(AssertionError, match=match) as info:
        check(*args)
    return str(info.value)
