"""frontend/openai/items.py: a request's input as the items `input_items` lists, each valid
under both specs whatever form the client sent it in."""

from __future__ import annotations

from typing import Any

from frontend.openai.items import input_items
from frontend.openai.request import CreateResponse
from tests import spec


def items(input: Any) -> list[dict[str, Any]]:
    out = input_items(CreateResponse.model_validate({"model": "m", "input": input}))
    for item in out:
        spec.validate(item, "ItemResource")
        spec.validate_open_responses(item, "ItemField")
    return out


def test_text_parts_take_the_type_their_role_allows() -> None:
    [user, assistant] = items(
        [
            {"role": "user", "content": [{"type": "output_text", "text": "a"}]},
            {"role": "assistant", "content": [{"type": "input_text", "text": "b"}]},
        ]
    )
    assert user["content"] == [{"type": "input_text", "text": "a"}]
    assert assistant["content"] == [
        {"type": "output_text", "text": "b", "annotations": [], "logprobs": []}
    ]


def test_ids_are_kept_or_made_and_statuses_filled() -> None:
    [given, made] = items(
        [
            {"role": "system", "content": "s", "id": "msg_mine"},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        ]
    )
    assert given["id"] == "msg_mine" and given["status"] == "completed"
    assert made["id"].startswith("fc_") and made["status"] == "completed"


def test_tool_outputs_and_reasoning() -> None:
    [output, reasoning] = items(
        [
            {
                "type": "function_call_output",
                "call_id": "c",
                "output": [{"type": "input_text", "text": "42"}],
            },
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "sum"}],
                "content": [{"type": "reasoning_text", "text": "think"}],
            },
        ]
    )
    assert output["output"] == [{"type": "input_text", "text": "42"}]
    assert output["id"].startswith("fco_")
    assert reasoning["summary"] == [{"type": "summary_text", "text": "sum"}]
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "think"}]
