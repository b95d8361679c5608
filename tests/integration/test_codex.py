"""Codex CLI (unmodified) on the real engine: one `codex exec` turn against vLLM (CPU) with
SmolLM2 and the hermes tool parser, through the small-context config and Portico's model
catalog that docs/clients/codex.md documents.

The model decides what to do with the prompt: it may answer at once, or run a command first
and answer after. Either way the turn must complete with an answer and no error item: a
Portico error (a 4xx or 5xx, a broken stream) fails the turn, since the config turns Codex's
retries off.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from frontend.codex_catalog import INSTRUCTIONS
from tests.clients.codex import BINARY, codex_exec, rollout
from tests.stack import Stack

from .conftest import MODEL, embedded_only

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not BINARY.exists(), reason=f"Codex CLI is not installed at {BINARY} (scripts/install.sh)"
    ),
]


@embedded_only  # an instruct model that stops by itself (the GPU runs use random weights)
def test_codex_small_context_turn_on_the_real_engine(real_stack: Stack, tmp_path: Path) -> None:
    run = codex_exec(
        real_stack,
        "Say hello in one short sentence.",
        tmp_path,
        model=MODEL,
        catalog=True,
        small_context=True,
        timeout=300,
    )
    report = f"{run.stderr[-3000:]}\n{json.dumps(run.events)[-4000:]}"
    assert run.returncode == 0, report
    assert run.items("error") == [], report  # no fallback-metadata warning, no failed request
    types = [e["type"] for e in run.events]
    assert "turn.completed" in types and "turn.failed" not in types and "error" not in types
    answers = [item["text"] for item in run.items("agent_message")]
    assert answers and answers[-1].strip(), report

    # Codex took its context window and instructions from Portico's catalog.
    [model] = httpx.get(real_stack.url("/v1/models")).json()["data"]
    entries = rollout(run.codex_home)
    [meta] = [e["payload"] for e in entries if e.get("type") == "session_meta"]
    assert meta["base_instructions"]["text"] == INSTRUCTIONS
    windows = {
        e["payload"]["model_context_window"]
        for e in entries
        if e.get("type") == "event_msg" and e["payload"].get("type") == "task_started"
    }
    assert windows == {model["max_model_len"] * 95 // 100}
