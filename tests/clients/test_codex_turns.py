"""Codex CLI (`@openai/codex`, unmodified) against Portico with the fake engine, beyond
tests/clients/test_codex.py: a generation that fails (mid-stream, or by the engine's own
error finish) in native and compatibility mode ends the turn at once with the engine's
message, no hang and no retry loop; and `codex exec resume --last` sends the earlier
session's history with its next turn."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.clients.codex import BINARY, codex_exec
from tests.stack import Stack

pytestmark = pytest.mark.skipif(
    not BINARY.exists(), reason=f"Codex CLI is not installed at {BINARY} (scripts/install.sh)"
)

FAILURES = {
    "fake:raise": "the fake engine broke mid-stream, as asked",
    "fake:finish=error": "the fake engine failed this request, as asked",
}


@pytest.mark.parametrize("mode", ["native", "compat"])
@pytest.mark.parametrize("directive", list(FAILURES))
def test_a_failed_generation_fails_the_turn_with_its_message(
    fake_stack: Stack, compat_stack: Stack, tmp_path: Path, mode: str, directive: str
) -> None:
    stack = fake_stack if mode == "native" else compat_stack
    started = time.monotonic()
    run = codex_exec(stack, f"Break now {directive}", tmp_path, timeout=60)
    assert time.monotonic() - started < 45  # ends at once (Codex's retries are off)
    assert run.returncode == 1, run.events
    [failed] = [e for e in run.events if e["type"] == "turn.failed"]
    assert FAILURES[directive] in failed["error"]["message"]


def usage(events: list[dict[str, Any]]) -> int:
    [done] = [e for e in events if e["type"] == "turn.completed"]
    return int(done["usage"]["input_tokens"])


def test_resume_sends_the_earlier_turns(fake_stack: Stack, tmp_path: Path) -> None:
    first = codex_exec(fake_stack, "Please run exec_command fake:echo", tmp_path / "a")
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = codex_exec(
        fake_stack, "Say hello again", tmp_path / "a", options=["resume", "--last"]
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    [answer] = resumed.items("agent_message")
    assert answer["text"].startswith("Hello from the fake engine")
    fresh = codex_exec(fake_stack, "Say hello again", tmp_path / "b")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert usage(resumed.events) > usage(fresh.events)  # the first session's items went too
