"""Codex CLI (`@openai/codex`, unmodified) against Portico with the fake engine: a default
Codex turn (client_metadata, a namespace tool, web_search, encrypted-reasoning include,
store false, its session headers) runs a command and answers with the command's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients.codex import BINARY, codex_exec, rollout
from tests.stack import Stack

pytestmark = pytest.mark.skipif(
    not BINARY.exists(), reason=f"Codex CLI is not installed at {BINARY} (scripts/install.sh)"
)


def test_codex_runs_exec_command_and_the_output_reaches_the_next_request(
    fake_stack: Stack, tmp_path: Path
) -> None:
    # The fake calls exec_command (named in the prompt) with cmd "fake", once; with the
    # command's output last in the next request it answers "Tool output: <that output>".
    run = codex_exec(fake_stack, "Please run exec_command fake:echo", tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert any(e["type"] == "turn.completed" for e in run.events), run.events
    [command] = run.items("command_execution")
    assert command["command"].endswith("fake")
    assert command["exit_code"] == 127  # bash: fake: command not found
    [answer] = run.items("agent_message")
    assert answer["text"].startswith("Tool output:")
    assert "127" in answer["text"] and "not found" in answer["text"], answer["text"]


def test_codex_answers_a_plain_prompt(fake_stack: Stack, tmp_path: Path) -> None:
    run = codex_exec(fake_stack, "Say hello", tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    [answer] = run.items("agent_message")
    assert answer["text"].startswith("Hello from the fake engine")
    assert not run.items("command_execution")


def test_codex_compacts_its_context_through_portico(fake_stack: Stack, tmp_path: Path) -> None:
    # With a custom provider Codex compacts locally (it never calls /v1/responses/compact):
    # a summarising request through /v1/responses, whose answer replaces the history.
    options = ["-c", "model_auto_compact_token_limit=1000"]
    run = codex_exec(fake_stack, "Please run exec_command", tmp_path, options=options)
    assert run.returncode == 0, run.stderr[-3000:]
    assert any(e["type"] == "turn.completed" for e in run.events), run.events
    compacted = [e for e in rollout(run.codex_home) if e.get("type") == "compacted"]
    assert compacted and "Hello from the fake engine" in compacted[0]["payload"]["message"]


def test_codex_sends_encrypted_reasoning_back_with_store_false(
    reasoning_stack: Stack, tmp_path: Path
) -> None:
    # A reasoning model (the fake with --fake-reasoning): the first response's reasoning item
    # carries encrypted_content (Codex asks for it, with store false); Codex sends it back in
    # the second request, which Portico decrypts into the prompt.
    run = codex_exec(reasoning_stack, "Please run exec_command fake:echo", tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    [answer] = run.items("agent_message")
    assert answer["text"].startswith("Tool output:"), run.events
    sent_back = [
        e["payload"]
        for e in rollout(run.codex_home)
        if e.get("type") == "response_item" and e["payload"].get("type") == "reasoning"
    ]
    assert sent_back and all(item.get("encrypted_content") for item in sent_back)
