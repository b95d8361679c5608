"""Codex CLI for tests: where the installer put it, and one `codex exec` run against a stack.

The installer (scripts/install.sh, "Codex CLI" step) installs `@openai/codex` from npm into
`$PORTICO_CACHE/npm` (default ~/.cache/portico/npm). Each run gets a fresh CODEX_HOME with
the config docs/clients/codex.md documents: a custom model provider at the stack's `/v1`
with `wire_api = "responses"` and an API key from an environment variable; on request Portico's
model catalog (`model_catalog_url`) and the small-context settings (one shell tool, no web
search, no subagent, goal, image or user-input tools, no skills instructions).
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


# docs/clients/codex.md, "Small-context models": top-level keys, then tables.
SMALL_CONTEXT_TOP = 'web_search = "disabled"\n'
SMALL_CONTEXT_TABLES = """
[features]
goals = false
view_image = false

[agents]
enabled = false

[skills]
include_instructions = false

[tools.experimental_request_user_input]
enabled = false
"""


def config(base_url: str, model: str, *, catalog: bool = False, small_context: bool = False) -> str:
    """Codex's config.toml for a Portico server (the ones docs/clients/codex.md shows)."""
    catalog_line = f'model_catalog_url = "{base_url}/codex/models"\n' if catalog else ""
    return f"""model = "{model}"
model_provider = "portico"
{SMALL_CONTEXT_TOP if small_context else ""}
[model_providers.portico]
name = "Portico"
base_url = "{base_url}"
wire_api = "responses"
env_key = "{ENV_KEY}"
{catalog_line}request_max_retries = 0
stream_max_retries = 0
{SMALL_CONTEXT_TABLES if small_context else ""}"""


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
    catalog: bool = False,
    small_context: bool = False,
) -> Run:
    """`codex exec --json [options] PROMPT` in `home/work`, non-interactive, commands run
    unsandboxed (the test's own temporary folder; no approvals to answer)."""
    done = codex(
        stack,
        home,
        [
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            *options,
            prompt,
        ],
        model=model,
        timeout=timeout,
        catalog=catalog,
        small_context=small_context,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Run(done.returncode, events, done.stderr, home / "codex")


def codex(
    stack: Stack,
    home: Path,
    arguments: Sequence[str],
    *,
    model: str = "fake-model",
    timeout: float = 120,
    catalog: bool = False,
    small_context: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`codex ARGUMENTS` in `home/work` with a fresh `home/codex` as CODEX_HOME."""
    (home / "codex").mkdir(parents=True, exist_ok=True)
    (home / "work").mkdir(exist_ok=True)
    text = config(stack.url("/v1"), model, catalog=catalog, small_context=small_context)
    (home / "codex" / "config.toml").write_text(text)
    env = dict(os.environ, CODEX_HOME=str(home / "codex"), **{ENV_KEY: "sk-portico"})
    return subprocess.run(
        [str(BINARY), *arguments],
        cwd=home / "work",
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def rollout(codex_home: Path) -> list[dict[str, Any]]:
    """The entries of the session Codex recorded (sessions/YYYY/MM/DD/*.jsonl)."""
    [path] = list((codex_home / "sessions").rglob("*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
