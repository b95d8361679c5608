"""Encrypted reasoning on a running stack (the launcher's own key, the fake reasoning engine):
a stateless client (store=false, as Codex) carries its reasoning from turn to turn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import spec
from tests.sse import post_stream
from tests.stack import Stack

MODEL = "fake-model"
INCLUDE = ["reasoning.encrypted_content"]
REASONING = "Thinking briefly."  # what the fake engine reasons, 2 tokens


def turn_two(reasoning: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Turn 2's input: turn 1 resent, its reasoning item as clients echo it back (summary and
    encrypted_content), then a new question."""
    echoed = (
        [{k: reasoning[k] for k in ("type", "id", "summary", "encrypted_content")}]
        if reasoning
        else []
    )
    return [
        {"role": "user", "content": "hi"},
        *echoed,
        {"type": "message", "role": "assistant", "content": "Hello."},
        {"role": "user", "content": "and now?"},
    ]


def create(stack: Stack, **body: Any) -> httpx.Response:
    return httpx.post(stack.url("/v1/responses"), json={"model": MODEL, **body}, timeout=30)


def test_turn_one_streams_a_sealed_reasoning_item(reasoning_stack: Stack) -> None:
    stream = post_stream(
        reasoning_stack.url("/v1/responses"),
        {"model": MODEL, "input": "hi", "stream": True, "store": False, "include": INCLUDE},
    )
    assert stream.status == 200, stream.body
    for event in stream.events:
        spec.validate_stream_event(event)
    spec.validate_event_sequence(stream.events)
    done = next(e["item"] for e in stream.events if e["type"] == "response.output_item.done")
    assert done["type"] == "reasoning"
    assert done["encrypted_content"]
    assert REASONING not in done["encrypted_content"]
    assert stream.events[-1]["response"]["output"][0] == done


def test_turn_two_restores_the_reasoning_into_the_prompt(reasoning_stack: Stack) -> None:
    client = reasoning_stack.openai()
    first = client.responses.create(
        model=MODEL, input="hi", include=["reasoning.encrypted_content"], store=False
    )
    item = first.output[0].model_dump(mode="json", exclude_none=True)
    assert item["type"] == "reasoning" and item["encrypted_content"]

    plain = create(reasoning_stack, input=turn_two(None), store=False)
    second = create(reasoning_stack, input=turn_two(item), include=INCLUDE, store=False)
    assert (plain.status_code, second.status_code) == (200, 200), second.text
    spec.validate_response(second.json())
    assert second.json()["output"][0]["encrypted_content"]  # turn 3 can carry it on
    # the fake counts prompt words: the restored reasoning is in turn 2's prompt
    restored = second.json()["usage"]["input_tokens"] - plain.json()["usage"]["input_tokens"]
    assert restored == len(REASONING.split())


def test_a_tampered_or_foreign_token_is_a_400(reasoning_stack: Stack) -> None:
    first = create(reasoning_stack, input="hi", include=INCLUDE, store=False).json()
    item = first["output"][0]
    token = item["encrypted_content"]
    for bad in (
        token[:30] + ("A" if token[30] != "A" else "B") + token[31:],  # one character changed
        token[:-8],  # truncated
        "gAAAAABpM0Yj-...=",  # not ours
    ):
        reply = create(reasoning_stack, input=turn_two({**item, "encrypted_content": bad}))
        assert reply.status_code == 400, reply.text
        body = reply.json()
        spec.validate_error(body)
        assert body["error"]["code"] == "invalid_encrypted_content"
        assert body["error"]["param"] == "input[1].encrypted_content"
        assert bad not in body["error"]["message"]


def test_without_the_include_there_is_no_encrypted_content(reasoning_stack: Stack) -> None:
    body = create(reasoning_stack, input="hi").json()
    assert [i["type"] for i in body["output"]] == ["reasoning", "message"]
    assert "encrypted_content" not in body["output"][0]


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Stack]:
    stack = Stack("--fake", "--fake-reasoning", workers=2).start()
    yield stack
    stack.stop()


def test_every_worker_opens_what_another_sealed(two_workers: Stack) -> None:
    """`portico serve` makes one key for the run and gives it to every worker: follow-ups
    land on either worker (a new connection each) and all of them open the token."""
    item = create(two_workers, input="hi", include=INCLUDE, store=False).json()["output"][0]
    for _ in range(12):
        reply = create(two_workers, input=turn_two(item), store=False)
        assert reply.status_code == 200, reply.text
