"""The sidecar's command line: vLLM's own engine argument parser plus a few frontend flags.

Owns the flags vLLM keeps in its OpenAI server (tool-call parser, chat template), which
moved between vLLM versions, so they are declared here once, and turning the parsed flags
into engine arguments (with the CPU's own settings where no flag chose them: engine/cpu.py;
on a GPU with Portico's CUDA-graph capture size where none was chosen: engine/graphs.py).
"""

from __future__ import annotations

import argparse

from . import cpu, graphs
from .vllm_api import AsyncEngineArgs, FlexibleArgumentParser


def build_parser(base: argparse.ArgumentParser) -> FlexibleArgumentParser:
    parser = FlexibleArgumentParser(
        prog="python -m inference", parents=[base], conflict_handler="resolve"
    )
    group = parser.add_argument_group("portico frontend-side flags of vLLM")
    group.add_argument("--chat-template", default=None, help="a Jinja file or template text")
    group.add_argument("--tool-call-parser", default=None, help="a vLLM tool parser, e.g. hermes")
    group.add_argument(
        "--enable-auto-tool-choice",
        action="store_true",
        help="accepted for vLLM compatibility; auto tool choice is on whenever a parser is set",
    )
    portico = parser.add_argument_group("portico engine-side flags")
    portico.add_argument(
        "--prefill-window-ms",
        type=float,
        default=0.0,
        help="while other generations run, hold a new one until the next multiple of this "
        "many milliseconds, so arrivals enter the engine together and their prefill shares "
        "steps (0: off; engine/prefill_window.py)",
    )
    AsyncEngineArgs.add_cli_args(parser)  # every engine flag, --reasoning-parser included
    return parser


def engine_args(namespace: argparse.Namespace) -> AsyncEngineArgs:
    """vLLM's engine arguments; on a CPU with the dtype chosen for it (engine/cpu.py), on a
    GPU with the CUDA-graph capture size (engine/graphs.py)."""
    return AsyncEngineArgs.from_cli_args(graphs.apply(cpu.apply(namespace)))
