"""Codex CLI for tests: where the installer put it, and one `codex exec` run against a stack.

The installer (scripts/install.sh, "Codex CLI" step) installs `@openai/codex` from npm into
`$PORTICO_CACHE/npm` (default ~/.cache/portico/npm). Each run gets a fresh CODEX_HOME with
the config docs/clients/codex.md documents: a custom model provider at the stack's `/v1`
with `wire_api = "responses"` and an API key from an environment variable.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.stack import Stack

VERSION = "0.171.0"  # keep in step with CODEX_VERSION in scripts/install.sh
CACHE = Path(
    os.environ.get("PORTICO_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "portico"
)
BINARY = CACHE / "npm" / "node_modules" / ".bin" / "codex"
ENV_KEY = "PORTICO_API_KEY"


def config(base_url: str, model: str) -> str:
    """Codex's config.toml for a Portico server (the one docs/clients/codex.md shows)."""
    return f"""model = "{model}"
model_provider = "portico"

[model_providers.portico]
name = "Portico"
base_url = "{base_url}"
wire_api = "responses"
env_key = "{ENV_KEY}"
request_max_retries = 0
stream_max_retries = 0
"""


@dataclass
class Run:
    returncode: int
    events: list[dict[str, Any]]  # `codex exec --json` events, one JSON object a line
    stderr: str
    codex_home: Path

    def items(self, kind: str) -> list[dict[str, Any]]:
        """The completed items of one type (agent_message, command_execution, error, ...)."""
        return [
            e["item"]
            for e in self.events
            if e.get("type") == "item.completed" and e["item"].get("type") == kind
        ]


def codex_exec(
    stack: Stack,
    prompt: str,
    home: Path,
    *,
    model: str = "fake-model",
    options: Sequence[str] = (),
    timeout: float = 120,
) -> Run:
    """`codex exec --json [options] PROMPT` in `home/work`, non-interactive, commands run
    unsandboxed (the test's own temporary folder; no approvals to answer)."""
    (home / "codex").mkdir(parents=True, exist_ok=True)
    (home / "work").mkdir(exist_ok=True)
    (home / "codex" / "config.toml").write_text(config(stack.url("/v1"), model))
    env = dict(os.environ, CODEX_HOME=str(home / "codex"), **{ENV_KEY: "sk-portico"})
    done = subprocess.run(
        [
            str(BINARY),
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            *options,
            prompt,
        ],
        cwd=home / "work",
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Run(done.returncode, events, done.stderr, home / "codex")


def rollout(codex_home: Path) -> list[dict[str, Any]]:
    """The entries of the session Codex recorded (sessions/YYYY/MM/DD/*.jsonl)."""
    [path] = list((codex_home / "sessions").rglob("*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
