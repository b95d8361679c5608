"""The response store that `portico serve` gives several workers: a local `redis-server`.

Owns the embedded default of the shared store. With more than one worker and no store URL
(neither `--responses-store-url` nor PORTICO_STORE_URL), the launcher starts a redis-server
(the Debian package scripts/install.sh installs) on a Unix socket in its temporary folder,
with no persistence (stored responses live as long as the launcher) and `maxmemory` above
the store's byte cap, waits until it answers, and points the frontend at it. A URL the
user gives is used as it is, and no local Redis is started.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from frontend.config import BY_NAME, from_environ

from .processes import spawn

URL_ENV = BY_NAME["STORE_URL"].env
READY_TIMEOUT = 10.0  # seconds for redis-server to answer PING
HEADROOM = 64 * 1024 * 1024  # bytes beyond the store's own: keys, indexes, Redis itself


class StoreMissing(Exception):
    """redis-server is needed and not installed; the message says what to do."""


def wanted(workers: int, env: Mapping[str, str]) -> bool:
    """Whether this launch needs its own Redis: several workers, and no URL in the
    frontend's environment (the flag or an inherited variable)."""
    return workers > 1 and not env.get(URL_ENV)


def maxmemory(max_bytes: int) -> int:
    """Redis's memory limit: twice the store's byte cap (entries are counted as encoded,
    Redis holds them with its own overhead), plus headroom."""
    return 2 * max_bytes + HEADROOM


def command(binary: str, sock: Path, max_bytes: int) -> list[str]:
    return [
        binary,
        "--port", "0",  # no TCP: the Unix socket only
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(sock.parent),
        "--maxmemory", str(maxmemory(max_bytes)),
        # never evict the store's bookkeeping (no TTL); entries (with a TTL) only if the
        # caps were ever outrun
        "--maxmemory-policy", "volatile-lru",
        "--loglevel", "warning",
    ]  # fmt: skip


def _answers(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start redis-server and wait until it answers: (the process, its URL). `env` is the
    frontend's (its store byte cap sizes Redis's memory)."""
    max_bytes = from_environ(env).get("STORE_MAX_BYTES", BY_NAME["STORE_MAX_BYTES"].default)
    binary = shutil.which("redis-server")
    if binary is None:
        raise StoreMissing(
            f"several workers share one response store, and redis-server is not installed: "
            f"run scripts/install.sh (it installs it), or give a Redis URL with "
            f"{BY_NAME['STORE_URL'].flag}"
        )
    sock = workdir / "redis.sock"
    proc = spawn(command(binary, sock, max_bytes), env)
    deadline = time.monotonic() + READY_TIMEOUT
    while not _answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise StoreMissing("the local redis-server did not start (its output is above)")
        time.sleep(0.02)
    return proc, f"unix://{sock}"
