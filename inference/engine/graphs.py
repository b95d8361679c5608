"""How large a step vLLM captures in CUDA graphs, chosen when the sidecar starts on a GPU.

Owns one decision: the largest step (in tokens) that runs from a captured CUDA graph. vLLM
captures steps up to `min(2 * max_num_seqs, 512)` tokens; a larger step runs without graphs,
the compiled model's kernels launched one by one from Python. On an H200 at 512 streams such
steps were the engine core's costliest: its one CPU-bound thread spent 2.0 ms (1 Sanic worker)
and 3.5 ms (4 workers) of every 21-28 ms step launching them, ~8-10 ms for each such step if
they were the steps that carried prompt tokens (docs/benchmarks.md, "CUDA graphs above 512
tokens"). On a GPU with room for more than ~450 running requests, a step that decodes the
batch and takes a few new prompts (each ~13 tokens past the prefix cache there) passes 512
tokens, and the fuller the batch, the more often.

`choose` is pure: where the user chose no capture size (no `--max-cudagraph-capture-size`,
`--cudagraph-capture-sizes`, nor either inside `--compilation-config`) and graphs are on,
the cap becomes `min(2 * max_num_seqs, 1024)`: vLLM's formula with its 512 raised to 1024
(`max_num_seqs` unset counts as vLLM's default for this GPU: 1,024 with 70 GiB or more, else
256; at or below 512 nothing changes). vLLM still caps it at `--max-num-batched-tokens`.
`apply` is the hook args.py calls: CUDA and ROCm platforms only, one log line. The cost,
measured there with a 1.07B model: 83 graph sizes instead of 51, captured in 7 s and 0.75 GiB
of GPU memory.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

log = logging.getLogger("portico.engine")

CAP = 1024  # tokens: the largest step Portico asks vLLM to capture (vLLM's own: 512)


def _compilation_field(compilation: Any, name: str) -> Any:
    if isinstance(compilation, dict):
        return compilation.get(name)
    return getattr(compilation, name, None)


def _graphs_off(namespace: argparse.Namespace) -> bool:
    if getattr(namespace, "enforce_eager", False):
        return True
    mode = _compilation_field(getattr(namespace, "compilation_config", None), "cudagraph_mode")
    return mode is not None and str(getattr(mode, "name", mode)).upper() == "NONE"


def choose(namespace: argparse.Namespace, default_max_num_seqs: int) -> int | None:
    """The max capture size to set, or None to leave vLLM's choice (or the user's) alone;
    `default_max_num_seqs` is vLLM's for this GPU, used where no --max-num-seqs was given."""
    compilation = getattr(namespace, "compilation_config", None)
    chosen = (
        getattr(namespace, "max_cudagraph_capture_size", None),
        getattr(namespace, "cudagraph_capture_sizes", None),
        _compilation_field(compilation, "max_cudagraph_capture_size"),
        _compilation_field(compilation, "cudagraph_capture_sizes"),
    )
    if any(value is not None for value in chosen) or _graphs_off(namespace):
        return None
    max_num_seqs = getattr(namespace, "max_num_seqs", None) or default_max_num_seqs
    size = min(2 * int(max_num_seqs), CAP)
    return size if size > 512 else None  # at or below 512 vLLM's formula gives the same


def apply(namespace: argparse.Namespace) -> argparse.Namespace:
    """The engine arguments with Portico's capture size (unchanged off GPU platforms)."""
    from .vllm_api import default_max_num_seqs, on_gpu  # vLLM only here, not in choose()

    size = choose(namespace, default_max_num_seqs()) if on_gpu() else None
    if size is None:
        return namespace
    log.info("CUDA graphs: steps up to %d tokens captured (vLLM's default: 512)", size)
    return argparse.Namespace(**{**vars(namespace), "max_cudagraph_capture_size": size})
