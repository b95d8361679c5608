"""ParsedReasoning with a real vLLM reasoning parser, fed token by token as the engine would."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("vllm")

from transformers import AutoTokenizer
from vllm.reasoning import ReasoningParserManager

from inference.embedded_model import default_model_dir
from inference.engine.reasoning import ParsedReasoning

MODEL = Path(os.environ.get("PORTICO_TEST_TOKENIZER", default_model_dir()))


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    if not (MODEL / "tokenizer.json").exists():
        pytest.skip("the embedded model is not converted (scripts/install.sh)")
    tok = AutoTokenizer.from_pretrained(MODEL)
    tok.add_special_tokens({"additional_special_tokens": ["<think>", "</think>"]})
    return tok


def stream(tokenizer: Any, text: str) -> tuple[str, str]:
    parser = ReasoningParserManager.get_reasoning_parser("deepseek_r1")(tokenizer)
    split = ParsedReasoning(parser)
    reasoning = answer = ""
    for token_id in tokenizer.encode(text, add_special_tokens=False):
        r, a = split.feed(tokenizer.decode([token_id]), [token_id])
        reasoning += r
        answer += a
    return reasoning, answer


def test_reasoning_then_answer(tokenizer: Any) -> None:
    reasoning, answer = stream(tokenizer, "<think>Paris is the capital.</think>It is Paris.")
    assert reasoning.strip() == "Paris is the capital."
    assert answer.strip() == "It is Paris."
