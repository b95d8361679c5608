"""`python -m inference`: start the sidecar on a Unix socket.

    python -m inference --socket PATH --model PATH [every vLLM engine flag]
    python -m inference --socket PATH --fake         (no model: tests and frontend benchmarks)

With `--api-server-count N` (N > 1) the sidecar runs N shards, each with a socket of its own
(protocol/shards.py): on vLLM, this process starts the engine core and N shard processes
(engine/shards.py); the fake serves N sockets from this one process, one fake each.

A model that fails to load makes the process exit non-zero with the reason on stderr. The
sidecar sets its own vLLM environment defaults (`engine_env_defaults`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Coroutine, MutableMapping
from typing import Any

from . import log_format
from .backend import Engine
from .fake import REPLY
from .protocol import shard_socket
from .server import SidecarServer

log = logging.getLogger("portico.sidecar")


def base_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--socket", required=True, help="the Unix socket path to listen on")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=30.0,
        help="seconds SIGTERM waits for running generations",
    )
    parser.add_argument(
        "--log-format",
        choices=log_format.FORMATS,
        default=log_format.default_format(),
        help="log lines as text or one JSON object each (default: PORTICO_LOG_FORMAT, else text)",
    )
    parser.add_argument(
        "--api-server-count",
        type=int,
        default=None,
        help="shards: engine-client processes sharing the engine, each with its own socket "
        "(default: 1 on a CPU, else 2 or the data-parallel size if larger)",
    )
    parser.add_argument("--shard-slot", default=None, help=argparse.SUPPRESS)  # engine/shards.py
    parser.add_argument("--fake", action="store_true", help="serve the instant fake engine")
    parser.add_argument("--fake-token-delay", type=float, default=0.0)
    parser.add_argument("--fake-tokens-per-delta", type=int, default=1)
    parser.add_argument("--fake-reply-tokens", type=int, default=len(REPLY))
    parser.add_argument("--fake-reasoning", action="store_true")
    parser.add_argument(
        "--fake-max-num-seqs", type=int, default=256, help="the capacity the fake reports"
    )
    return parser


def engine_env_defaults(model: str, environ: MutableMapping[str, str]) -> None:
    """The sidecar's own vLLM environment defaults, set before vLLM starts its engine (each
    only when the operator has not set it): these belong to the sidecar, whoever starts it
    (`portico serve`, a container, by hand).

    - VLLM_CPU_KVCACHE_SPACE=2: vLLM-CPU otherwise reserves 92 % of the NUMA node's memory
      and refuses to start when anything else runs; 2 GiB of KV cache holds ~90k SmolLM2
      tokens. GPU builds ignore it.
    - HF_HUB_OFFLINE=1 for a model that is a local folder: no Hugging Face Hub look-ups for
      it (a hub id such as Qwen/Qwen3-8B is left to download as vLLM does).
    """
    environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    if os.path.isdir(os.path.expanduser(model)):
        environ.setdefault("HF_HUB_OFFLINE", "1")


def parse(argv: list[str]) -> argparse.Namespace:
    """The sidecar's flags; with a model, vLLM's engine flags too."""
    base = base_parser()
    known, _ = base.parse_known_args(argv)
    if known.fake:
        full = argparse.ArgumentParser(prog="python -m inference", parents=[base])
        full.add_argument("--served-model-name", default="fake-model")
        ns = full.parse_args(argv)
    else:
        # Before vLLM (and huggingface_hub, which reads its variables at import) is imported.
        model_only = argparse.ArgumentParser(add_help=False)
        model_only.add_argument("--model", default="")
        engine_env_defaults(str(model_only.parse_known_args(argv)[0].model), os.environ)
        from .engine.args import build_parser

        ns = build_parser(base).parse_args(argv)
        model = str(ns.model)
        if model.startswith(("/", "./", "../", "~")) and not os.path.isdir(
            os.path.expanduser(model)
        ):
            raise SystemExit(f"the sidecar could not start: model path {model} does not exist")
    if ns.api_server_count is None:
        ns.api_server_count = 1 if ns.fake else default_shards(ns)
    if ns.api_server_count < 1:
        raise SystemExit("the sidecar could not start: --api-server-count must be 1 or more")
    return ns


def default_shards(ns: argparse.Namespace) -> int:
    """1 on a CPU (the engine's own threads want the cores); on a GPU 2, or one per
    data-parallel engine: at 256 streams on an H200 one shard is the bottleneck, two
    produce 1.2-1.5x its tokens (docs/benchmarks.md)."""
    from .engine.vllm_api import on_cpu

    if on_cpu():
        return 1
    return max(2, int(getattr(ns, "data_parallel_size", 1) or 1))


def servers(ns: argparse.Namespace) -> list[SidecarServer]:
    """The socket servers this process runs: one, or every shard's for the fake."""
    if ns.fake:
        from .fake import FakeEngine

        count = ns.api_server_count
        return [
            SidecarServer(
                FakeEngine(
                    model=ns.served_model_name,
                    token_delay=ns.fake_token_delay,
                    tokens_per_delta=ns.fake_tokens_per_delta,
                    reply_tokens=ns.fake_reply_tokens,
                    reasoning=ns.fake_reasoning,
                    max_num_seqs=ns.fake_max_num_seqs,
                ),
                shard_socket(ns.socket, index),
                drain_timeout=ns.drain_timeout,
                shard=index,
                shards=count,
            )
            for index in range(count)
        ]
    from .engine.runner import VllmEngine
    from .engine.slot import Slot

    slot = Slot.loads(ns.shard_slot) if ns.shard_slot else None
    if slot is not None:
        from .engine.shards import die_with_parent

        die_with_parent(slot.parent)
    engine: Engine = VllmEngine(ns, slot)
    if slot is None:
        return [SidecarServer(engine, ns.socket, drain_timeout=ns.drain_timeout)]
    path = shard_socket(ns.socket, slot.index)
    return [
        SidecarServer(
            engine, path, drain_timeout=ns.drain_timeout, shard=slot.index, shards=slot.count
        )
    ]


async def serve(ns: argparse.Namespace) -> None:
    """Serve until SIGTERM/SIGINT, then drain every server and shut its engine down."""
    running = servers(ns)
    for server in running:
        await server.start()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
    await asyncio.gather(*(server.stop() for server in running))


def run(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, on uvloop when it is installed (vLLM brings it): fewer µs per frame."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    log_format.configure(base_parser().parse_known_args([*argv, "--socket", ""])[0].log_format)
    try:
        ns = parse(argv)
        if not ns.fake and ns.api_server_count > 1 and ns.shard_slot is None:
            from .engine import shards

            sys.exit(shards.run(ns, argv))
        run(serve(ns))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        log.error("the sidecar could not start: %s: %s", type(exc).__name__, exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
