"""vLLM's settings on a CPU, chosen from the CPU's features when the sidecar starts.

Owns one decision: the dtype the model computes in. vLLM's CPU backend runs `--dtype auto` in
bfloat16 (it even downcasts float32 checkpoints), which is fast only on a CPU with bf16
instructions: AVX512-BF16 or AMX-BF16 on x86 (Intel Cooper Lake and later, AMD Zen 4 and
later). Without them (AVX2-only CPUs such as AMD EPYC Rome/Milan, AVX-512 CPUs before Cooper
Lake) bf16 matmuls are emulated, a 512x512 one ~75x (AVX2) or ~5x (AVX-512) slower than in
float32. Measured on the embedded model (docs/benchmarks.md), float32 there reaches the first
token 2.5-4.4x sooner and gives 1.5x the throughput at 4 streams, while one stream's pace
after the first token drops 10-30 % (decode is memory-bound, float32 reads twice the bytes).
So on such a CPU a model the user gave no `--dtype` runs in float32, at twice the weight and
KV-cache memory.

`choose` is pure (CPU flags and arguments in, settings out); `apply` is the hook args.py
calls: CPU platform only, one log line saying what was chosen and why.

Threads and KV cache are left to vLLM and the launcher: vLLM binds its OpenMP threads to all
cores but one (`VLLM_CPU_OMP_THREADS_BIND=auto`), which suits one stream, and the launcher
sets `VLLM_CPU_KVCACHE_SPACE`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("portico.engine")

# /proc/cpuinfo flags of the x86 instructions that make bf16 matmuls native.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
X86_MACHINES = frozenset({"x86_64", "amd64", "i386", "i686"})
# ONEDNN_MAX_CPU_ISA values (oneDNN's names) that still allow its bf16 kernels; any other
# value caps oneDNN below AVX512_CORE_BF16, which makes bf16 matmuls slow again.
ONEDNN_BF16_ISAS = (
    "ALL",
    "DEFAULT",
    "AVX512_CORE_BF16",
    "AVX512_CORE_FP16",
    "AVX512_CORE_AMX",
    "AVX10",
)


@dataclass(frozen=True)
class CpuSettings:
    dtype: str | None  # the --dtype to run with; None: keep what the arguments say
    reason: str  # why, for the log line


def parse_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of /proc/cpuinfo text (x86 `flags`, Arm `Features`); first CPU."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def read_flags(path: str = "/proc/cpuinfo") -> frozenset[str]:
    try:
        return parse_flags(Path(path).read_text(errors="replace"))
    except OSError:
        return frozenset()


def choose(
    flags: frozenset[str],
    *,
    dtype: str = "auto",
    machine: str = "x86_64",
    quantized: bool = False,
    onednn_max_isa: str | None = None,
) -> CpuSettings:
    """The dtype for this CPU: float32 where bf16 would be emulated, else the arguments'.

    `flags`: the CPU's /proc/cpuinfo flags; `dtype`: the --dtype argument ("auto" unless
    the user gave one); `machine`: platform.machine(); `quantized`: the model or the
    arguments name a quantization method (its kernels pick their own activation dtype);
    `onednn_max_isa`: the ONEDNN_MAX_CPU_ISA environment variable.
    """
    if dtype != "auto":
        return CpuSettings(None, "as given by --dtype")
    if machine.lower() not in X86_MACHINES:
        return CpuSettings(None, f"vLLM's default: Portico has no rule for {machine} CPUs")
    if quantized:
        return CpuSettings(None, "vLLM's default: the model is quantized")
    if not flags:
        return CpuSettings(None, "vLLM's default: the CPU's flags are unknown")
    override = "pass --dtype bfloat16 to override"
    cap = (onednn_max_isa or "").strip().upper()
    if cap and not cap.startswith(ONEDNN_BF16_ISAS):
        return CpuSettings(
            "float32",
            f"ONEDNN_MAX_CPU_ISA={cap} keeps oneDNN from its bf16 kernels, so bf16 matmuls "
            f"would be emulated and several times slower; {override}",
        )
    native = [flag for flag in BF16_FLAGS if flag in flags]
    if native:
        return CpuSettings(None, f"vLLM's default (bf16): the CPU has {', '.join(native)}")
    return CpuSettings(
        "float32",
        "the CPU has neither avx512_bf16 nor amx_bf16, so bf16 matmuls would be emulated and "
        f"several times slower; float32 takes twice the memory; {override}",
    )


def model_is_quantized(namespace: argparse.Namespace) -> bool:
    """Whether --quantization is given or the model's config.json names a quantization."""
    if getattr(namespace, "quantization", None):
        return True
    model = str(getattr(namespace, "model", "") or "")
    config = Path(os.path.expanduser(model)) / "config.json"
    if not config.is_file():
        config = _cached_config(model, getattr(namespace, "revision", None)) or config
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(
        data.get("quantization_config") or data.get("compression_config")
    )


def _cached_config(model: str, revision: str | None) -> Path | None:
    """A hub model's config.json from the local Hugging Face cache (never downloads)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, "config.json", revision=revision)
    except Exception:
        return None
    return Path(found) if isinstance(found, str) else None


def apply(namespace: argparse.Namespace) -> argparse.Namespace:
    """The engine arguments with this CPU's settings (unchanged off the CPU platform)."""
    from .vllm_api import on_cpu  # vLLM only here: choose() and the tests need none

    if not on_cpu():
        return namespace
    given = str(getattr(namespace, "dtype", "auto") or "auto")
    settings = choose(
        read_flags(),
        dtype=given,
        machine=platform.machine(),
        quantized=model_is_quantized(namespace),
        onednn_max_isa=os.environ.get("ONEDNN_MAX_CPU_ISA"),
    )
    log.info("CPU platform: dtype %s, %s", settings.dtype or given, settings.reason)
    if settings.dtype is None:
        return namespace
    return argparse.Namespace(**{**vars(namespace), "dtype": settings.dtype})
