"""Codex CLI (`@openai/codex`, unmodified) against Portico with the fake engine: a default
Codex turn (client_metadata, a namespace tool, web_search, encrypted-reasoning include,
store false, its session headers) runs a command and answers with the command's output;
Codex decodes Portico's model catalog (`GET /v1/codex/models`) and a small-context turn uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontend.codex_catalog import INSTRUCTIONS
from tests.clients.codex import BINARY, codex, codex_exec, rollout
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


def test_codex_decodes_portico_model_catalog(fake_stack: Stack, tmp_path: Path) -> None:
    # `codex debug models` lists what Codex decoded from model_catalog_url: an entry it could
    # not decode would make it drop the whole catalog (and list none of Portico's models).
    done = codex(fake_stack, tmp_path, ["debug", "models"], catalog=True)
    assert done.returncode == 0, done.stderr[-3000:]
    models = {m["slug"]: m for m in json.loads(done.stdout)["models"]}
    model = models["fake-model"]
    assert model["context_window"] == 4096  # the fake engine's max_model_len
    assert model["base_instructions"] == INSTRUCTIONS
    assert model["shell_type"] == "unified_exec"  # the fake sidecar runs a tool parser
    assert model["supported_reasoning_levels"] == []  # no reasoning parser


def test_codex_small_context_turn_uses_the_catalog(fake_stack: Stack, tmp_path: Path) -> None:
    # The documented small-context config with Portico's catalog: no fallback-metadata
    # warning (no error item at all), Codex's context window is the model's (95% of it, as
    # Codex keeps), Portico's short instructions are the base instructions, and a command runs.
    run = codex_exec(
        fake_stack,
        "Please run exec_command fake:echo",
        tmp_path,
        catalog=True,
        small_context=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.items("error") == []
    assert any(e["type"] == "turn.completed" for e in run.events), run.events
    assert run.items("command_execution")
    [answer] = run.items("agent_message")
    assert answer["text"].startswith("Tool output:")
    entries = rollout(run.codex_home)
    [meta] = [e["payload"] for e in entries if e.get("type") == "session_meta"]
    assert meta["base_instructions"]["text"] == INSTRUCTIONS
    windows = {
        e["payload"]["model_context_window"]
        for e in entries
        if e.get("type") == "event_msg" and e["payload"].get("type") == "task_started"
    }
    assert windows == {4096 * 95 // 100}


def test_codex_sends_the_catalog_reasoning_effort(reasoning_stack: Stack, tmp_path: Path) -> None:
    # With a reasoning parser the catalog offers low/medium/high (default medium), and Codex
    # then sends `reasoning: {"effort": "medium", "summary": "auto"}` (seen with a recording
    # server; the rollout does not keep it). Portico accepts an effort only when the sidecar
    # runs a reasoning parser, and the turn completes with Codex's retries off.
    done = codex(reasoning_stack, tmp_path, ["debug", "models"], catalog=True)
    [model] = [m for m in json.loads(done.stdout)["models"] if m["slug"] == "fake-model"]
    assert model["default_reasoning_level"] == "medium"
    run = codex_exec(reasoning_stack, "Please run exec_command fake:echo", tmp_path, catalog=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.items("error") == []
    [answer] = run.items("agent_message")
    assert answer["text"].startswith("Tool output:"), run.events
