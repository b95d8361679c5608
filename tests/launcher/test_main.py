"""`python -m launcher` as a process: Portico's own mistakes stop it before anything starts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.stack import ROOT, free_port


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--responses-ping-interval-seconds", "10", "--responses-tool-timeout", "30"],
            "portico serve: --responses-tool-timeout is not supported yet: tool outputs",
        ),
        (["--responses-pingg-interval-seconds", "10"], "did you mean"),
        (["--responses-store-ttl-seconds", "a week"], "expects a number, not 'a week'"),
    ],
)
def test_a_refused_flag_exits_2_with_one_line_and_starts_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    sock = tmp_path / "sidecar.sock"
    port = free_port()
    started = time.monotonic()
    launcher = [sys.executable, "-m", "launcher", "--fake", "--socket", str(sock)]
    done = subprocess.run(
        [*launcher, "--port", str(port), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert time.monotonic() - started < 15
    assert not sock.exists()  # no sidecar ever ran
    pids = subprocess.run(["pgrep", "-f", str(sock)], capture_output=True, text=True).stdout
    assert pids.split() == []
