"""`python -m launcher` as a process: Portico's own mistakes stop it before anything starts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from frontend.sealing import parse_keys
from launcher.__main__ import KEYS_ENV, split_env
from tests.stack import ROOT, free_port


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--responses-ping-interval-seconds", "10", "--max-stream-event-bytes", "lots"],
            "portico serve: --max-stream-event-bytes expects a whole number, not 'lots'",
        ),
        (["--responses-pingg-interval-seconds", "10"], "did you mean"),
        (["--responses-store-ttl-seconds", "a week"], "expects a number, not 'a week'"),
        (
            ["--responses-reasoning-keys", "hunter2-is-not-a-key"],
            "--responses-reasoning-keys expects comma-separated base64 keys of 32 random "
            "bytes each (make one with: openssl rand -base64 32); key 1 is not",
        ),
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


def test_the_reasoning_keys_go_to_the_frontend_only_one_made_when_none_is_set() -> None:
    sidecar, frontend = split_env({"PATH": "/bin", KEYS_ENV: ""})
    assert sidecar == {"PATH": "/bin"}
    assert len(parse_keys(frontend[KEYS_ENV])) == 1  # one random key, for every worker
    assert frontend["PATH"] == "/bin"
    assert split_env({"PATH": "/bin"})[1][KEYS_ENV] != frontend[KEYS_ENV]
    configured = {KEYS_ENV: frontend[KEYS_ENV]}
    assert split_env(configured) == ({}, configured)  # a configured key is kept as is
