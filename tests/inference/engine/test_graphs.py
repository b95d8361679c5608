"""The CUDA-graph capture size Portico picks on a GPU (inference/engine/graphs.py), read from
vLLM's real command-line parser; and what vLLM's config makes of it."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from inference.engine import graphs
from inference.engine.args import build_parser


def parse(*flags: str) -> argparse.Namespace:
    return build_parser(argparse.ArgumentParser(add_help=False)).parse_args(list(flags))


def test_no_choice_lifts_vllms_512_to_1024_on_a_large_gpu() -> None:
    assert graphs.choose(parse(), default_max_num_seqs=1024) == 1024


def test_no_choice_on_a_smaller_gpu_keeps_vllms_choice() -> None:
    assert graphs.choose(parse(), default_max_num_seqs=256) is None


@pytest.mark.parametrize(("max_num_seqs", "size"), [(384, 768), (512, 1024), (2048, 1024)])
def test_the_cap_follows_max_num_seqs_as_vllms_formula_does(max_num_seqs: int, size: int) -> None:
    chosen = parse("--max-num-seqs", str(max_num_seqs))
    assert graphs.choose(chosen, default_max_num_seqs=256) == size


@pytest.mark.parametrize("max_num_seqs", ["16", "256"])
def test_small_batches_keep_vllms_own_choice(max_num_seqs: str) -> None:
    assert graphs.choose(parse("--max-num-seqs", max_num_seqs), default_max_num_seqs=1024) is None


@pytest.mark.parametrize(
    "flags",
    [
        ["--max-cudagraph-capture-size", "256"],
        ["--cudagraph-capture-sizes", "1", "2", "4"],
        ["--compilation-config", '{"max_cudagraph_capture_size": 128}'],
        ["-cc", '{"cudagraph_capture_sizes": [8, 16]}'],
        ["--enforce-eager"],
        ["--compilation-config", '{"cudagraph_mode": "NONE"}'],
    ],
)
def test_a_users_choice_or_graphs_off_is_left_alone(flags: list[str]) -> None:
    assert graphs.choose(parse(*flags), default_max_num_seqs=1024) is None


def test_apply_leaves_a_cpu_engine_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = parse()
    monkeypatch.setattr("inference.engine.vllm_api.on_gpu", lambda: False)
    assert graphs.apply(namespace) is namespace


def test_apply_on_a_gpu_sets_the_flag_and_logs_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("inference.engine.vllm_api.on_gpu", lambda: True)
    monkeypatch.setattr("inference.engine.vllm_api.default_max_num_seqs", lambda: 1024)
    with caplog.at_level(logging.INFO, logger="portico.engine"):
        applied = graphs.apply(parse("--max-num-seqs", "400"))
    assert applied.max_cudagraph_capture_size == 800
    assert "steps up to 800 tokens captured" in caplog.text
    chosen = parse("--max-cudagraph-capture-size", "64")
    assert graphs.apply(chosen) is chosen


def test_vllms_engine_arguments_take_the_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Through args.engine_args into vLLM's EngineArgs (a local folder as the model: no hub)."""
    from inference.engine.args import engine_args

    monkeypatch.setattr("inference.engine.vllm_api.on_gpu", lambda: True)
    monkeypatch.setattr("inference.engine.vllm_api.on_cpu", lambda: False)
    monkeypatch.setattr("inference.engine.vllm_api.default_max_num_seqs", lambda: 1024)
    args = engine_args(parse("--model", str(tmp_path), "--max-num-seqs", "300"))
    assert args.max_cudagraph_capture_size == 600


def test_vllms_default_max_num_seqs_is_read_from_vllm() -> None:
    """On this machine vLLM's own defaults (CPU: 128 for its OpenAI server); the GPU figures
    are in vLLM's table beside it."""
    from inference.engine.vllm_api import AsyncEngineArgs, UsageContext, default_max_num_seqs

    vllms = AsyncEngineArgs.get_batch_defaults(1)[1][UsageContext.OPENAI_API_SERVER]
    assert default_max_num_seqs() == vllms > 0
