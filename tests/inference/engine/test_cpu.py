"""Choosing vLLM's CPU dtype from the CPU's flags (inference/engine/cpu.py), with fake CPUs."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pytest

from inference.engine import cpu

# /proc/cpuinfo flag sets of the CPUs the rule is about (trimmed to what matters).
AVX2_EPYC = frozenset(
    [
        "fpu",
        "sse",
        "sse2",
        "ssse3",
        "sse4_1",
        "sse4_2",
        "avx",
        "f16c",
        "fma",
        "avx2",
        "bmi2",
        "sha_ni",
    ]
)
SKYLAKE_SP = AVX2_EPYC | {"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"}
CASCADE_LAKE = SKYLAKE_SP | {"avx512_vnni"}
ZEN4 = CASCADE_LAKE | {"avx512_bf16", "avx512ifma", "avx512vbmi"}
SAPPHIRE_RAPIDS = ZEN4 | {"amx_tile", "amx_bf16", "amx_int8", "avx512_fp16"}
AMX_ONLY = AVX2_EPYC | {"amx_tile", "amx_bf16"}


@pytest.mark.parametrize("flags", [AVX2_EPYC, SKYLAKE_SP, CASCADE_LAKE])
def test_no_bf16_instructions_runs_float32(flags: frozenset[str]) -> None:
    chosen = cpu.choose(flags)
    assert chosen.dtype == "float32"
    assert "avx512_bf16" in chosen.reason and "--dtype bfloat16" in chosen.reason


@pytest.mark.parametrize("flags", [ZEN4, SAPPHIRE_RAPIDS, AMX_ONLY])
def test_bf16_instructions_keep_vllms_default(flags: frozenset[str]) -> None:
    chosen = cpu.choose(flags)
    assert chosen.dtype is None
    assert "bf16" in chosen.reason


@pytest.mark.parametrize("given", ["bfloat16", "float16", "float32", "half"])
def test_a_given_dtype_is_kept(given: str) -> None:
    assert cpu.choose(AVX2_EPYC, dtype=given).dtype is None
    assert cpu.choose(SAPPHIRE_RAPIDS, dtype=given).dtype is None


def test_quantized_models_keep_vllms_default() -> None:
    chosen = cpu.choose(AVX2_EPYC, quantized=True)
    assert chosen.dtype is None and "quantized" in chosen.reason


@pytest.mark.parametrize("machine", ["aarch64", "ppc64le", "s390x", "riscv64"])
def test_other_architectures_keep_vllms_default(machine: str) -> None:
    assert cpu.choose(frozenset({"fp", "asimd"}), machine=machine).dtype is None


def test_unknown_flags_keep_vllms_default() -> None:
    chosen = cpu.choose(frozenset())
    assert chosen.dtype is None and "unknown" in chosen.reason


@pytest.mark.parametrize("cap", ["AVX2", "avx2", "AVX512_CORE", "AVX512_CORE_VNNI", "SSE41"])
def test_onednn_capped_below_bf16_runs_float32(cap: str) -> None:
    chosen = cpu.choose(SAPPHIRE_RAPIDS, onednn_max_isa=cap)
    assert chosen.dtype == "float32" and "ONEDNN_MAX_CPU_ISA" in chosen.reason


@pytest.mark.parametrize(
    "cap", ["", "ALL", "DEFAULT", "AVX512_CORE_BF16", "AVX512_CORE_AMX", "AVX10_1_512_AMX"]
)
def test_onednn_cap_with_bf16_keeps_the_flags_decision(cap: str) -> None:
    assert cpu.choose(SAPPHIRE_RAPIDS, onednn_max_isa=cap).dtype is None
    assert cpu.choose(AVX2_EPYC, onednn_max_isa=cap).dtype == "float32"


def test_parse_flags_of_x86_and_arm_cpuinfo() -> None:
    x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx avx2 fma\n\n"
    arm = "processor\t: 0\nFeatures\t: fp asimd bf16 sve\nCPU implementer\t: 0x41\n"
    assert cpu.parse_flags(x86) == {"fpu", "avx", "avx2", "fma"}
    assert cpu.parse_flags(arm) == {"fp", "asimd", "bf16", "sve"}
    assert cpu.parse_flags("processor : 0\n") == frozenset()


def test_read_flags_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert cpu.read_flags(str(tmp_path / "nope")) == frozenset()


def test_model_is_quantized_reads_the_folders_config(tmp_path: Path) -> None:
    plain, quant = tmp_path / "plain", tmp_path / "quant"
    plain.mkdir()
    quant.mkdir()
    (plain / "config.json").write_text(json.dumps({"torch_dtype": "bfloat16"}))
    (quant / "config.json").write_text(json.dumps({"quantization_config": {"quant_method": "awq"}}))
    ns = argparse.Namespace
    assert not cpu.model_is_quantized(ns(model=str(plain), quantization=None))
    assert cpu.model_is_quantized(ns(model=str(quant), quantization=None))
    assert cpu.model_is_quantized(ns(model=str(plain), quantization="fp8"))
    assert not cpu.model_is_quantized(ns(model="no/such-model", quantization=None))


@pytest.fixture
def on_cpu(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    pytest.importorskip("vllm")
    from vllm.platforms import current_platform

    monkeypatch.setattr(type(current_platform), "is_cpu", lambda self: True, raising=False)
    monkeypatch.setattr(cpu.platform, "machine", lambda: "x86_64")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    return monkeypatch


def test_apply_sets_float32_and_logs_once(
    on_cpu: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    on_cpu.setattr(cpu, "read_flags", lambda: AVX2_EPYC)
    given = argparse.Namespace(model="no/such-model", dtype="auto", quantization=None)
    with caplog.at_level(logging.INFO, logger="portico.engine"):
        chosen = cpu.apply(given)
    assert chosen.dtype == "float32" and given.dtype == "auto"  # the input is not changed
    assert chosen.model == "no/such-model"
    lines = [r.getMessage() for r in caplog.records if r.name == "portico.engine"]
    assert len(lines) == 1 and lines[0].startswith("CPU platform: dtype float32, ")


def test_apply_keeps_auto_on_a_bf16_cpu(on_cpu: pytest.MonkeyPatch) -> None:
    on_cpu.setattr(cpu, "read_flags", lambda: SAPPHIRE_RAPIDS)
    given = argparse.Namespace(model="m", dtype="auto", quantization=None)
    assert cpu.apply(given) is given


def test_apply_keeps_a_given_dtype(on_cpu: pytest.MonkeyPatch) -> None:
    on_cpu.setattr(cpu, "read_flags", lambda: AVX2_EPYC)
    given = argparse.Namespace(model="m", dtype="bfloat16", quantization=None)
    assert cpu.apply(given).dtype == "bfloat16"


def test_apply_does_nothing_off_the_cpu_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("vllm")
    from vllm.platforms import current_platform

    monkeypatch.setattr(type(current_platform), "is_cpu", lambda self: False, raising=False)
    monkeypatch.setattr(cpu, "read_flags", lambda: AVX2_EPYC)
    given = argparse.Namespace(model="m", dtype="auto", quantization=None)
    assert cpu.apply(given) is given


def test_engine_args_take_the_chosen_dtype(on_cpu: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from inference.__main__ import base_parser
    from inference.engine.args import build_parser, engine_args

    on_cpu.setattr(cpu, "read_flags", lambda: AVX2_EPYC)
    parser = build_parser(base_parser())
    chosen = engine_args(parser.parse_args(["--socket", "s", "--model", str(tmp_path)]))
    assert chosen.dtype == "float32"
    given = engine_args(
        parser.parse_args(["--socket", "s", "--model", str(tmp_path), "--dtype", "bfloat16"])
    )
    assert given.dtype == "bfloat16"
