"""`portico-serve` / `python -m launcher`: serve the sidecar and the Sanic frontend together.

Owns the lifecycle of the two processes on one machine:

- the command line is checked first (launcher/flags.py): a mistake that is Portico's is one
  line and exit code 2, before any process starts;
- the sidecar is supervised (launcher/supervisor.py): a crash restarts it with backoff while
  the frontend keeps answering 503; a start failure, or too many fast crashes, stops
  everything with one line and exit code 1;
- the frontend dying stops everything (exit code: the frontend's, or 1);
- Ctrl-C or SIGTERM stops both, exit code 0: first the frontend (it stops listening and
  finishes the requests in flight), then the sidecar (it drains what still runs);
- children die with the launcher (launcher/processes.py), so no orphan is left;
- several workers without a store URL share a local redis-server (launcher/store.py),
  started first and stopped last; it dying stops everything;
- the reasoning keys go to the frontend only: without configured ones, one random key made
  for this run, so every worker opens the encrypted reasoning the others sealed.

    portico-serve                         # the embedded SmolLM2 model on 127.0.0.1:8000
    portico-serve --model PATH [vLLM flags] --workers 4 --responses-ping-interval-seconds 10
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from frontend.config import BY_NAME
from frontend.sealing import new_key
from inference.protocol import Handshake

from . import store
from .flags import PROG, FlagError, Launch, parse
from .processes import describe_exit, say, spawn, stop
from .sidecar import ModelMissing, sidecar_command
from .supervisor import Supervisor

TICK = 0.2  # seconds between looks at the two processes
KEYS_ENV = BY_NAME["REASONING_KEYS"].env


def frontend_command(launch: Launch) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sanic",
        "frontend.app",
        "--host",
        launch.host,
        "--port",
        str(launch.port),
        "--workers",
        str(launch.workers),
        "--no-motd",
    ]


def split_env(env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(the sidecar's environment, the frontend's): the reasoning keys are the frontend's
    alone; when none are configured, one random key for this run, shared by every worker."""
    sidecar = {name: value for name, value in env.items() if name != KEYS_ENV}
    frontend = dict(env)
    if not frontend.get(KEYS_ENV, "").strip():
        frontend[KEYS_ENV] = new_key()
    return sidecar, frontend


def main(argv: list[str] | None = None) -> None:
    try:
        launch = parse(sys.argv[1:] if argv is None else argv)
    except FlagError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # while a near miss is asked of vLLM's parser
        sys.exit(130)
    sys.exit(serve(launch))


def serve(launch: Launch) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="portico-"))
    try:
        return _serve(launch, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _serve(launch: Launch, workdir: Path) -> int:
    sock = launch.socket or str(workdir / "sidecar.sock")
    try:
        sidecar_cmd = sidecar_command(
            fake=launch.fake, model=launch.model, extra=launch.sidecar_args, sock=sock
        )
    except ModelMissing as exc:
        say(str(exc), error=True)
        return 1
    # Each process owns its own defaults: the sidecar its vLLM environment
    # (inference/__main__.py), the frontend its Prometheus multiprocess folder (metrics.py).
    env = {**os.environ, **launch.frontend_env, "PORTICO_SIDECAR_SOCKET": sock}
    url = f"http://{launch.host}:{launch.port}/v1"

    def on_ready(hs: Handshake, restarts: int) -> None:
        names = ", ".join(hs.model_names)
        if restarts:
            say(f"the sidecar is back (restart {restarts}), serving {names} ({hs.engine})")
        else:
            say(f"ready, serving {names} ({hs.engine}) at {url}")

    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    redis: subprocess.Popen[bytes] | None = None  # several workers, no store URL: a local one
    if store.wanted(launch.workers, env):
        try:
            redis, env[store.URL_ENV] = store.start(workdir, env)
        except store.StoreMissing as exc:
            say(str(exc), error=True)
            return 1
        say(f"the {launch.workers} workers share a local redis-server as the response store")
    sidecar_env, frontend_env = split_env(env)
    sidecar = Supervisor(sidecar_cmd, sidecar_env, sock, launch.policy, on_ready)
    sidecar.start()
    frontend = spawn(frontend_command(launch), frontend_env)
    say(f"loading the model; the API will be at {url}")
    code = 0
    try:
        while not stopping:
            if (frontend_code := frontend.poll()) is not None:
                say(f"the frontend {describe_exit(frontend_code)}; stopping", error=True)
                code = frontend_code if frontend_code > 0 else 1
                break
            if redis is not None and (redis_code := redis.poll()) is not None:
                say(f"the local redis-server {describe_exit(redis_code)}; stopping", error=True)
                code = 1
                break
            if (reason := sidecar.poll()) is not None:
                say(f"{reason}; stopping", error=True)
                code = 1
                break
            time.sleep(TICK)
    finally:
        stop(frontend, 10)
        sidecar.stop(40)
        if redis is not None:
            stop(redis, 5)
    return code


if __name__ == "__main__":
    main()
