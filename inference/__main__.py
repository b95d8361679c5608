"""`python -m inference`: start the sidecar on a Unix socket.

    python -m inference --socket PATH --model PATH [every vLLM engine flag]
    python -m inference --socket PATH --fake         (no model: tests and frontend benchmarks)

A model that fails to load makes the process exit non-zero with the reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine
from typing import Any

from .backend import Engine
from .fake import REPLY
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
    parser.add_argument("--fake", action="store_true", help="serve the instant fake engine")
    parser.add_argument("--fake-token-delay", type=float, default=0.0)
    parser.add_argument("--fake-tokens-per-delta", type=int, default=1)
    parser.add_argument("--fake-reply-tokens", type=int, default=len(REPLY))
    parser.add_argument("--fake-reasoning", action="store_true")
    return parser


def build_engine(argv: list[str]) -> tuple[argparse.Namespace, Engine]:
    base = base_parser()
    known, _ = base.parse_known_args(argv)
    if known.fake:
        from .fake import FakeEngine

        full = argparse.ArgumentParser(prog="python -m inference", parents=[base])
        full.add_argument("--served-model-name", default="fake-model")
        ns = full.parse_args(argv)
        return ns, FakeEngine(
            model=ns.served_model_name,
            token_delay=ns.fake_token_delay,
            tokens_per_delta=ns.fake_tokens_per_delta,
            reply_tokens=ns.fake_reply_tokens,
            reasoning=ns.fake_reasoning,
        )
    from .engine.args import build_parser
    from .engine.runner import VllmEngine

    ns = build_parser(base).parse_args(argv)
    model = str(ns.model)
    if model.startswith(("/", "./", "../", "~")) and not os.path.isdir(os.path.expanduser(model)):
        raise SystemExit(f"the sidecar could not start: model path {model} does not exist")
    return ns, VllmEngine(ns)


async def serve(argv: list[str]) -> None:
    ns, engine = build_engine(argv)
    server = SidecarServer(engine, ns.socket, drain_timeout=ns.drain_timeout)
    await server.serve_forever()


def run(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, on uvloop when it is installed (vLLM brings it): fewer µs per frame."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=os.environ.get("PORTICO_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        run(serve(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        log.error("the sidecar could not start: %s: %s", type(exc).__name__, exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
