"""`sanic frontend.app` (frontend/__init__.py) started with PORTICO_ variables, as the
migration guide's quick start and a pod's frontend container run it: a bad value stops it
with one line naming the variable and exit code 2 (what `portico serve` does for its flags),
never Sanic's traceback and exit code 0."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.stack import ROOT, free_port


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sanic", "frontend.app", "--port", str(free_port()), "--no-motd"],
        cwd=ROOT,
        env={**os.environ, "PORTICO_SIDECAR_SOCKET": "/nonexistent/sidecar.sock", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORTICO_TOOL_TIMEOUT": "soon"}, "PORTICO_TOOL_TIMEOUT expects a number, not 'soon'"),
        ({"PORTICO_SSE_PING_INTERVAL": "0"}, "PORTICO_SSE_PING_INTERVAL must be greater than 0"),
        ({"PORTICO_ALLOWED_SERVICE_TIERS": "gold"}, "PORTICO_ALLOWED_SERVICE_TIERS expects"),
        (
            {"PORTICO_DEFAULT_SERVICE_TIER": "flex", "PORTICO_ALLOWED_SERVICE_TIERS": "auto"},
            "the default service tier 'flex' is not among the allowed ones",
        ),
        ({"PORTICO_API_KEY_FILE": "/nonexistent.json"}, "PORTICO_API_KEY_FILE /nonexistent"),
    ],
)
def test_a_bad_variable_is_one_line_and_exit_2(env: dict[str, str], message: str) -> None:
    done = start(env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("portico: ") and message in lines[0]
