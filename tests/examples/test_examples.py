"""The scripts in examples/ run as a user would run them (a subprocess, the openai SDK, the
PORTICO_ variables) against a live Portico on the fake engine, and end with exit code 0 and
the output they promise. The prompts carry the fake engine's directives (inference/fake.py)
through PORTICO_PROMPT; the scripts' own default prompts are for a real model."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.stack import ROOT, Stack

EXAMPLES = ROOT / "examples"
MODEL = "fake-model"


def run(stack: Stack, script: str, **env: str) -> str:
    """Run one example against `stack`; its stdout, after asserting exit code 0."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=ROOT,
        env={
            **os.environ,
            "PORTICO_BASE_URL": stack.url("/v1"),
            "PORTICO_API_KEY": "sk-test",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_streaming_prints_the_text_and_a_completed_status(fake_stack: Stack) -> None:
    out = run(fake_stack, "streaming.py", PORTICO_MODEL=MODEL)
    assert "Hello from the fake engine" in out
    assert re.search(r"\[resp_\w+: completed, \d+ events, 13 output tokens\]", out), out


def test_streaming_finds_the_model_itself(fake_stack: Stack) -> None:
    assert "completed" in run(fake_stack, "streaming.py")  # no PORTICO_MODEL: /v1/models


def test_tools_runs_the_loop_and_sends_the_output_back(fake_stack: Stack) -> None:
    out = run(
        fake_stack,
        "tools.py",
        PORTICO_MODEL=MODEL,
        PORTICO_PROMPT="What is the weather? Use get_weather. fake:echo",
    )
    assert re.search(r"round 1: get_weather\(\{\"city\": .+\}\) -> ", out), out
    # the fake answers with the tool's output: it reached the model as function_call_output
    assert 'answer: Tool output: {"city":' in out and '"forecast": "sunny"' in out, out
    assert re.search(r"\[resp_\w+: completed\]", out), out


def test_background_resume_continues_after_the_dropped_event(fake_stack: Stack) -> None:
    out = run(
        fake_stack,
        "background_resume.py",
        PORTICO_MODEL=MODEL,
        PORTICO_PROMPT="A story, slowly. fake:delay=0.05",
        PORTICO_READ_EVENTS="3",
    )
    assert "dropped after #2; resuming resp_" in out, out
    assert re.search(r"resumed: events #3\.\.#\d+, ending with response\.completed", out), out
    assert "text after the resume point: 'Hello from the fake engine" in out, out
    assert re.search(r"\[resp_\w+: completed\] Hello from the fake engine", out), out


def test_an_error_answer_is_a_failure(fake_stack: Stack) -> None:
    # a script that cannot do what it says must fail: here, with a model that is not served
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "background_resume.py")],
        env={**os.environ, "PORTICO_BASE_URL": fake_stack.url("/v1"), "PORTICO_MODEL": "nope"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "NotFoundError" in done.stderr and "does not exist" in done.stderr


def test_azure_client_uses_the_azure_routes(fake_stack: Stack) -> None:
    out = run(fake_stack, "azure_client.py", PORTICO_MODEL=MODEL)
    assert re.search(r"apim-request-id: [0-9a-f-]{36}", out), out
    assert "answer: Hello from the fake engine" in out, out
    assert re.search(r"\[resp_\w+: completed, model fake-model\]", out), out


@pytest.mark.parametrize("script", ["streaming.py", "tools.py", "azure_client.py"])
def test_an_unreachable_server_is_a_failure(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env={
            **os.environ,
            "PORTICO_BASE_URL": "http://127.0.0.1:9/v1",  # the discard port: refused
            "PORTICO_MODEL": MODEL,
            "OPENAI_MAX_RETRIES": "0",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
