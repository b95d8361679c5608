"""The sidecar's first process when it runs several shards (`--api-server-count N`).

Owns vLLM's multi-API-server arrangement for the sidecar: this process starts the engine
core (one per data-parallel rank, vLLM's own processes) and N shard processes. Each shard is
`python -m inference` again with a Slot: an AsyncLLM client of that core, which does the
output processing, detokenization and parsing for its own generations, and a socket of its
own (protocol/shards.py). The engine core's step is shared; the per-token Python work is
spread over N processes.

It supervises them: a shard or an engine process that exits stops the whole sidecar (the
launcher or the kubelet restarts it); SIGTERM is passed on to every shard, which drains its
generations, and then the engine is shut down.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

from . import cadence
from .args import engine_args
from .slot import Slot
from .vllm_api import UsageContext, core_engines

log = logging.getLogger("portico.sidecar")
POLL = 0.5  # seconds between looks at the shard and engine processes
GRACE = 15.0  # seconds past the drain timeout a shard gets before it is killed


# A shard waits this long for the engine's first handshake: vLLM's own default (600 s) is
# shorter than a large model's download and compile, which the chart's startup probe allows.
READY_TIMEOUT_S = "3600"


def die_with_parent(parent: int) -> None:
    """A shard's first step: SIGTERM when the sidecar's first process dies
    (PR_SET_PDEATHSIG), and exit now if it already has."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    if parent and os.getppid() != parent:
        raise SystemExit("the sidecar's first process is gone")


def _ignore_signals() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):  # the shutdown must not be interrupted
        signal.signal(sig, signal.SIG_IGN)


def _stop_request(signum: int, frame: Any) -> None:
    _ignore_signals()
    raise SystemExit(0)


def run(namespace: argparse.Namespace, argv: list[str]) -> int:
    """Start the engine core and the shards; return the exit code once the sidecar stops."""
    count = int(namespace.api_server_count)
    args = engine_args(namespace)
    args._api_process_count, args._api_process_rank = count, -1
    config = args.create_engine_config(usage_context=UsageContext.OPENAI_API_SERVER)
    cadence.install(config)
    parallel = config.parallel_config
    if parallel.data_parallel_size_local != parallel.data_parallel_size:
        log.error("shards need every data-parallel engine on this node: run one shard")
        return 2
    os.environ.setdefault("VLLM_ENGINE_READY_TIMEOUT_S", READY_TIMEOUT_S)  # for the shards
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop_request)
    shards: list[subprocess.Popen[bytes]] = []
    manager = coordinator = None
    code = 0
    try:
        with core_engines(config, count, log_stats=not args.disable_log_stats) as launched:
            manager, coordinator, slots = launched
            for index, addresses in enumerate(slots):
                slot = Slot(index, count, addresses, parent=os.getpid())
                cmd = [sys.executable, "-m", "inference", *argv, "--shard-slot", slot.dumps()]
                shards.append(subprocess.Popen(cmd))
        log.info("engine started with %d shards", count)
        code = _supervise(shards, manager)
    except SystemExit as exc:
        code = int(exc.code or 0)
    except Exception as exc:
        log.error("the sidecar could not start: %s: %s", type(exc).__name__, exc)
        code = 1
    finally:
        _ignore_signals()
        _stop_shards(shards, namespace.drain_timeout + GRACE)
        if coordinator is not None:
            coordinator.shutdown()
        if manager is not None:
            manager.shutdown()
    return code


def _supervise(shards: list[subprocess.Popen[bytes]], manager: Any) -> int:
    """Wait until a shard or an engine process exits (or SIGTERM ends the wait)."""
    while True:
        for index, shard in enumerate(shards):
            if shard.poll() is not None:
                log.error("shard %d exited with code %s: stopping", index, shard.returncode)
                return 1
        finished = manager.finished_procs() if manager is not None else {}
        if finished:
            log.error("the engine process exited (%s): stopping", finished)
            return 1
        time.sleep(POLL)


def _stop_shards(shards: list[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM to every shard (each drains its generations), then wait, then kill."""
    for shard in shards:
        if shard.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                shard.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for shard in shards:
        with contextlib.suppress(subprocess.TimeoutExpired):
            shard.wait(max(0.0, deadline - time.monotonic()))
        if shard.poll() is None:
            shard.kill()
            shard.wait()
