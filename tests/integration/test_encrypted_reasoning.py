"""Encrypted reasoning on the real engine: vLLM's `olmo3` reasoning parser (text-based, so it
works with SmolLM2's vocabulary; it starts in reasoning, so the small model's whole answer is
reasoning) and a template that renders reasoning as <think>…</think>. Turn 1 is sealed; turn 2
sends it back and the prompt grows by the restored reasoning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontend.sealing import new_key
from tests import spec
from tests.sse import post_stream
from tests.stack import Stack

from .conftest import ENGINE_ARGS, MODEL, embedded_only

pytestmark = [pytest.mark.integration, embedded_only]
TEMPLATE = Path(__file__).with_name("think_template.jinja")
INCLUDE = ["reasoning.encrypted_content"]
KEY = new_key()


@pytest.fixture(scope="module")
def thinking_stack() -> Iterator[Stack]:
    stack = Stack(
        *ENGINE_ARGS,
        "--reasoning-parser",
        "olmo3",
        "--chat-template",
        str(TEMPLATE),
        env={"VLLM_CPU_KVCACHE_SPACE": "1", "PORTICO_REASONING_KEYS": KEY},
    ).start(timeout=600)
    yield stack
    assert stack.stop() == 0, stack.log()
    assert "Traceback" not in stack.log(), stack.log()
    assert KEY not in stack.log_path.read_text(errors="replace")  # key material is never logged


def create(stack: Stack, **body: Any) -> httpx.Response:
    body = {"model": MODEL, "temperature": 0, "max_output_tokens": 8, **body}
    return httpx.post(stack.url("/v1/responses"), json=body, timeout=120)


def turn_two(reasoning: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Turn 2's input; the reasoning item as clients echo it: summary and encrypted_content."""
    echoed = (
        [{k: reasoning[k] for k in ("type", "summary", "encrypted_content")}] if reasoning else []
    )
    return [
        {"role": "user", "content": "Say hello."},
        *echoed,
        {"type": "message", "role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Once more."},
    ]


def test_sealed_reasoning_round_trips_through_the_real_prompt(thinking_stack: Stack) -> None:
    stream = post_stream(
        thinking_stack.url("/v1/responses"),
        {
            "model": MODEL,
            "input": "Say hello.",
            "temperature": 0,
            "max_output_tokens": 8,
            "stream": True,
            "store": False,
            "include": INCLUDE,
        },
    )
    assert stream.status == 200, stream.body
    for event in stream.events:
        spec.validate_stream_event(event)
    spec.validate_event_sequence(stream.events)
    item = stream.events[-1]["response"]["output"][0]
    assert item["type"] == "reasoning", stream.events[-1]
    assert item["content"][0]["text"] and item["encrypted_content"]

    plain = create(thinking_stack, input=turn_two(None), store=False)
    restored = create(thinking_stack, input=turn_two(item), store=False)
    assert (plain.status_code, restored.status_code) == (200, 200), restored.text
    grown = restored.json()["usage"]["input_tokens"] - plain.json()["usage"]["input_tokens"]
    assert grown >= 2 + len(item["content"][0]["text"].split()) // 2  # <think>, </think>, text

    token = item["encrypted_content"]
    tampered = {
        **item,
        "encrypted_content": token[:20] + ("A" if token[20] != "A" else "B") + token[21:],
    }
    refused = create(thinking_stack, input=turn_two(tampered))
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["code"], error["param"]) == (
        "invalid_encrypted_content",
        "input[1].encrypted_content",
    )
