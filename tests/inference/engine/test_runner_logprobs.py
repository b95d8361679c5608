"""Logprobs of an engine output: one per text token, special tokens left out."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

runner = pytest.importorskip("inference.engine.runner")  # needs vllm installed


def lp(logprob: float, rank: int, text: str) -> SimpleNamespace:
    return SimpleNamespace(logprob=logprob, rank=rank, decoded_token=text)


def test_eos_coalesced_with_the_last_word_has_no_logprob() -> None:
    # vLLM merged two steps into one delta: the word "!" (id 7) and the end-of-turn token (2).
    output = SimpleNamespace(
        logprobs=[
            {7: lp(-0.1, 1, "!"), 9: lp(-2.5, 2, ".")},
            {2: lp(-0.01, 1, "<|im_end|>"), 5: lp(-4.0, 2, "?")},
        ]
    )
    out = runner._logprobs(output, [7, 2], 2, frozenset({2}))
    assert [e.token for e in out] == ["!"]
    assert [t.token for t in out[0].top_logprobs] == ["!", "."]
    assert out[0].bytes == [33]


def test_top_logprobs_are_ranked_and_cut_to_n() -> None:
    output = SimpleNamespace(
        logprobs=[{3: lp(-1.0, 2, "b"), 4: lp(-0.5, 1, "a"), 6: lp(-3.0, 3, "c")}]
    )
    (entry,) = runner._logprobs(output, [3], 2, frozenset())
    assert entry.token == "b" and entry.logprob == -1.0
    assert [t.token for t in entry.top_logprobs] == ["a", "b"]


def test_minus_infinity_is_clamped_to_a_json_number() -> None:
    output = SimpleNamespace(logprobs=[{1: lp(float("-inf"), 1, "x")}])
    (entry,) = runner._logprobs(output, [1], 1, frozenset())
    assert entry.logprob == -9999.0
