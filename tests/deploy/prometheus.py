"""A real Prometheus (the Debian package's `prometheus` binary) scraping a running Portico,
for tests/deploy: a generated config with a short scrape interval, a temporary storage
folder, a free port, and its HTTP query API (`/api/v1/query`).

Where the binary is missing the tests skip, except in CI (`CI` set), where they fail:
scripts/install.sh installs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.stack import free_port

SCRAPE_SECONDS = 1


def binary() -> str:
    """The prometheus binary: a skip where it is missing, a failure in CI."""
    found = shutil.which("prometheus")
    if found is None:
        message = "prometheus is not installed: run scripts/install.sh (Debian package)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


class Prometheus:
    def __init__(self, target: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portico-prometheus-"))
        config = self.dir / "prometheus.yml"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {SCRAPE_SECONDS}s\n"
            f"  scrape_timeout: {SCRAPE_SECONDS}s\n"
            "scrape_configs:\n"
            "  - job_name: portico\n"
            "    metrics_path: /metrics\n"
            "    static_configs:\n"
            f"      - targets: ['{target}']\n"
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.dir / "prometheus.log"
        self.proc = subprocess.Popen(
            [
                binary(),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60.0) -> Prometheus:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"prometheus was not ready within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def api(self, expr: str) -> dict[str, Any]:
        """The query API's whole answer (status, data or error) for an instant query."""
        reply = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body: dict[str, Any] = reply.json()
        return body

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result vector of an instant query; a test failure on an error."""
        body = self.api(expr)
        assert body["status"] == "success", (expr, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        """The one value of a query that gives at most one series (None for none)."""
        result = self.query(expr)
        assert len(result) <= 1, (expr, result)
        return float(result[0]["value"][1]) if result else None

    def scrapes_after(self, since: float, timeout: float = 30.0) -> None:
        """Wait for a successful scrape that started after `since` (time.time())."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = httpx.get(f"{self.url}/api/v1/targets", timeout=5).json()
            targets = reply["data"]["activeTargets"]
            if targets and all(
                t["health"] == "up" and _epoch(t["lastScrape"]) > since for t in targets
            ):
                return
            time.sleep(0.25)
        raise AssertionError(f"no scrape after the traffic within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _epoch(stamp: str) -> float:
    """Prometheus' RFC 3339 times (nanoseconds, Z or an offset) as seconds."""
    from datetime import datetime

    if "." not in stamp:  # e.g. 0001-01-01T00:00:00Z: never scraped yet
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    head, _, rest = stamp.partition(".")
    digits = "".join(c for c in rest if c.isdigit())
    zone = rest[len(digits) :] or "Z"
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{head}.{digits[:6].ljust(6, '0')}{zone}").timestamp()
