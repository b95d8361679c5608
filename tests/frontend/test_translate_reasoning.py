"""translate.py in-process: encrypted reasoning items and the encrypted-reasoning include."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import pytest

from frontend import translate
from frontend.errors import InvalidEncryptedContent, Unsupported
from frontend.sealing import Sealer
from inference.protocol import Role
from tests.frontend.scripted import make_handshake
from tests.frontend.test_translate import NO_PARSERS, body, generate, refused

# --- encrypted reasoning -----------------------------------------------------------------

SEALER = Sealer([os.urandom(32)])
REASONING_HANDSHAKE = make_handshake(reasoning_parser="qwen3")


def unseal_for(tenant: str) -> translate.Unseal:
    return partial(SEALER.open, tenant=tenant)


def echoed(token: str, **fields: Any) -> dict[str, Any]:
    """A reasoning item as clients echo it back: summary and encrypted_content only."""
    return {"type": "reasoning", "summary": [], "encrypted_content": token, **fields}


def test_encrypted_reasoning_is_restored_into_its_assistant_turn() -> None:
    token = SEALER.seal("I should greet back.", "")
    request = body(
        input=[
            {"role": "user", "content": "hi"},
            echoed(token, id="rs_1"),
            {"type": "message", "role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "again"},
        ]
    )
    messages = translate.input_messages(request, unseal_for(""))
    assert [(m.role, m.content, m.reasoning) for m in messages] == [
        (Role.USER, "hi", None),
        (Role.ASSISTANT, "Hello!", "I should greet back."),
        (Role.USER, "again", None),
    ]


def test_encrypted_reasoning_before_a_call_goes_to_that_call() -> None:
    token = SEALER.seal("Look it up.", "")
    call = {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}
    request = body(input=[{"role": "user", "content": "q"}, echoed(token), call])
    _, assistant = translate.input_messages(request, unseal_for(""))
    assert (assistant.reasoning, assistant.tool_calls[0].name) == ("Look it up.", "f")


def test_encrypted_content_wins_over_content_parts() -> None:
    token = SEALER.seal("the real one", "")
    forged = [{"type": "reasoning_text", "text": "edited by the client"}]
    request = body(input=[echoed(token, content=forged), {"role": "assistant", "content": "ok"}])
    [assistant] = translate.input_messages(request, unseal_for(""))
    assert assistant.reasoning == "the real one"


@pytest.mark.parametrize(
    ("token", "tenant", "why"),
    [
        (SEALER.seal("x", "tenant-a"), "tenant-b", "another tenant"),
        (SEALER.seal("x", "")[:-4], "", "truncated"),
        (SEALER.seal("x", "")[:-6] + "AAAAAA", "", "altered"),
        (Sealer([os.urandom(32)]).seal("x", ""), "", "key this server does not hold"),
        ("gAAAAABpM0Yj-...=", "", "not base64"),
        ("", "", "too short"),
    ],
)
def test_unreadable_encrypted_content_is_a_400_naming_its_item(
    token: str, tenant: str, why: str
) -> None:
    request = body(input=[{"role": "user", "content": "hi"}, echoed(token)])
    error = refused(
        InvalidEncryptedContent, lambda: translate.input_messages(request, unseal_for(tenant))
    )
    assert (error.status, error.code) == (400, "invalid_encrypted_content")
    assert error.param == "input[1].encrypted_content"
    assert why in error.message


def test_encrypted_content_without_keys_is_a_400_naming_the_setting() -> None:
    request = body(input=[echoed(SEALER.seal("x", ""))])
    error = refused(InvalidEncryptedContent, lambda: translate.input_messages(request))
    assert (error.code, error.param) == ("invalid_encrypted_content", "input[0].encrypted_content")
    assert "PORTICO_REASONING_KEYS" in error.message


def test_plain_reasoning_content_needs_no_keys() -> None:
    item = {
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "a"}],
    }
    request = body(input=[item, {"role": "assistant", "content": "b"}])
    assert translate.input_messages(request)[0].reasoning == "a"


def test_the_encrypted_reasoning_include_is_honoured_with_keys() -> None:
    fields = {"input": "hi", "include": [translate.ENCRYPTED_INCLUDE], "store": False}
    request = body(**fields)
    assert translate.encrypted_reasoning(request)
    assert not translate.encrypted_reasoning(body(input="hi"))
    translate.generate_request(
        request, [], request_id="r", handshake=REASONING_HANDSHAKE, sealing=True
    )
    generate(NO_PARSERS, **fields)  # nothing to seal without a reasoning parser: a no-op


def test_the_encrypted_reasoning_include_without_keys_names_the_setting() -> None:
    request = body(
        input="hi", include=["message.output_text.logprobs", translate.ENCRYPTED_INCLUDE]
    )
    error = refused(
        Unsupported,
        lambda: translate.generate_request(
            request, [], request_id="r", handshake=REASONING_HANDSHAKE
        ),
    )
    assert (error.param, error.code) == ("include[1]", "unsupported_parameter")
    assert "PORTICO_REASONING_KEYS" in error.message
