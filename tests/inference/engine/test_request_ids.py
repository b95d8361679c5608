"""The engine request id carries the caller's request id (X-Request-Id) for vLLM's logs."""

from __future__ import annotations

import pytest

from inference.protocol import ChatMessage, GenerateRequest, Role

pytest.importorskip("vllm")

from inference.engine.runner import engine_request_id


def test_the_engine_request_id_names_the_callers_request_id() -> None:
    messages = [ChatMessage(role=Role.USER, content="hi")]
    plain = GenerateRequest(request_id="resp_1", messages=messages)
    traced = GenerateRequest(request_id="resp_1", messages=messages, trace_id="req_abc")
    assert engine_request_id(plain) == "resp_1"
    assert engine_request_id(traced) == "resp_1:req_abc"
