"""A real `redis-server` for tests: started on a Unix socket in a temporary folder, no
persistence, stopped at the end. The binary is the Debian package's (scripts/install.sh
installs it); without it the fixture fails saying so, it never skips.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: run scripts/install.sh (it installs the "
                "Debian package redis-server), or apt-get install redis-server"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="portico-redis-"))
        self.socket = str(self.dir / "redis.sock")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port", "0",
                "--unixsocket", self.socket,
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.dir),
                "--databases", "64",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)
        self._next_db = 0

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(self.socket)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def url(self, db: int = 0) -> str:
        return f"unix://{self.socket}?db={db}"

    def fresh_url(self) -> str:
        """The URL of a database no other caller of this method got (a clean store)."""
        self._next_db += 1
        return self.url(self._next_db)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
