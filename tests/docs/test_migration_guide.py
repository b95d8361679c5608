"""The migration guide (shared/product/migration-guide.md), walked as a migrating team would:
its quick start command, read from the guide itself with `python -m
vllm.entrypoints.openai.api_server` become `portico serve` (on the fake engine), and the same
settings as PORTICO_ variables for `sanic frontend.app`; every flag it names is Portico's.

Each promise's deeper tests live beside the code that keeps it (docs/migration.md maps them);
this module proves the guide's own lines, as written, against running servers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontend.config import SETTINGS
from launcher import flags
from launcher.flags import parse
from tests import spec
from tests.sse import post_stream
from tests.stack import ROOT, Stack, free_port

GUIDE = (ROOT.parent / "shared" / "product" / "migration-guide.md").read_text()
MODEL = "fake-model"


def quick_start() -> list[str]:
    """Section 2's command line, without `--model <MODEL>` (the fake engine serves)."""
    block = GUIDE.split("vllm.entrypoints.openai.api_server", 1)[1].split("```", 1)[0]
    words = block.replace("\\\n", " ").split()
    at = words.index("--model")
    return words[:at] + words[at + 2 :]


def test_every_flag_the_guide_names_is_porticos() -> None:
    named = set(re.findall(r"`(--[a-z][a-z-]*)", GUIDE)) | set(quick_start())
    named = {n for n in named if n.startswith("--")}
    own = {s.flag for s in SETTINGS} | {s.flag for s in flags.LAUNCHER}
    stems = {n for n in named if n.endswith("-")}  # `--responses-store-*`
    assert stems == {"--responses-store-"}
    assert {f for f in own if f.startswith("--responses-store-")}
    assert named - stems <= own, sorted(named - stems - own)
    assert parse(quick_start(), environ={}).sidecar_args == []


@pytest.fixture(scope="module")
def guide_stack() -> Iterator[Stack]:
    stack = Stack("--fake", *quick_start()).start()
    yield stack
    stack.stop()


def create(url: str, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return httpx.post(url, json={"model": MODEL, "input": "hi", **body}, headers=headers)


def refused(reply: httpx.Response, status: int, code: str, param: str) -> str:
    assert reply.status_code == status, reply.text
    spec.validate_error(reply.json())
    error = reply.json()["error"]
    assert (error["code"], error["param"]) == (code, param)
    return str(error["message"])


def test_the_quick_start_serves_openai_payloads(guide_stack: Stack) -> None:
    url = guide_stack.url("/v1/responses")
    # "the same payload they would send to OpenAI", its id in X-Request-Id
    reply = create(url, {"X-Request-Id": "mig-1"})
    assert reply.status_code == 200 and reply.headers["x-request-id"] == "mig-1"
    spec.validate_response(reply.json())
    assert reply.json()["service_tier"] == "default"  # auto: the default tier, as at OpenAI
    for tier in ("auto", "default"):  # --responses-allowed-service-tiers auto,default
        assert create(url, service_tier=tier).json()["service_tier"] == "default"
    for tier in ("flex", "priority", "scale"):
        message = refused(create(url, service_tier=tier), 400, "unsupported_value", "service_tier")
        assert "auto, default" in message
    # --responses-compatibility-mode: vLLM-only fields are OpenAI's unknown parameters
    for field, value in (("top_k", 5), ("request_id", "mig-1"), ("ignore_eos", True)):
        reply = create(url, {"X-Request-Id": "mig-1"}, **{field: value})
        assert refused(reply, 400, "unknown_parameter", field) == f"Unknown parameter: '{field}'."
    assert create(url, prompt_cache_key="k").json()["prompt_cache_key"] == "k"


def test_the_quick_start_streams_openais_events_only(guide_stack: Stack) -> None:
    stream = post_stream(
        guide_stack.url("/v1/responses"),
        {"model": MODEL, "input": "hi", "stream": True},
        headers={"Accept": "text/event-stream", "X-Request-Id": "mig-2"},
    )
    numbers = [e["sequence_number"] for e in stream.every]
    assert numbers == list(range(len(numbers)))  # monotonic from 0, no extension events
    spec.validate_event_sequence(stream.every)
    assert stream.every[-1]["type"] == "response.completed"
    assert not stream.done and stream.headers["x-request-id"] == "mig-2"  # no [DONE]


def test_the_quick_start_resumes_background_streams(guide_stack: Stack) -> None:
    client = guide_stack.openai()
    created = client.responses.create(
        model=MODEL, input="fake:delay=0.05", background=True, max_output_tokens=6
    )
    assert created.status == "queued"
    with client.responses.retrieve(created.id, stream=True, starting_after=2) as events:
        numbers = [e.sequence_number for e in events]
    assert numbers[0] == 3 and numbers == list(range(3, 3 + len(numbers)))
    assert client.responses.retrieve(created.id).status == "incomplete"  # 6 tokens
    # the tool-output route is native: compatibility mode has none
    reply = httpx.post(
        guide_stack.url(f"/v1/responses/{created.id}/tool_outputs"),
        json={"tool_outputs": [{"call_id": "c", "output": "x"}]},
    )
    assert reply.status_code == 404


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the frontend exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} was not ready within {timeout} s")


def test_the_quick_start_as_variables_for_sanic_frontend_app() -> None:
    """The pod's way: the sidecar on its own, `sanic frontend.app` reading PORTICO_ variables
    (what `portico serve` turns the guide's flags into)."""
    folder = Path(tempfile.mkdtemp(prefix="portico-guide-"))
    socket, port = str(folder / "s.sock"), free_port()
    env = {**os.environ, **parse(quick_start(), environ={}).frontend_env}
    env.update(PORTICO_SIDECAR_SOCKET=socket, PORTICO_HEALTH_INTERVAL="0.3")
    sidecar = subprocess.Popen(
        [sys.executable, "-m", "inference", "--socket", socket, "--fake"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    frontend = subprocess.Popen(
        [sys.executable, "-m", "sanic", "frontend.app", "--port", str(port), "--no-motd"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + "/readyz", frontend)
        url = base + "/v1/responses"
        assert create(url, service_tier="auto").json()["service_tier"] == "default"
        refused(create(url, service_tier="flex"), 400, "unsupported_value", "service_tier")
        refused(create(url, top_k=3), 400, "unknown_parameter", "top_k")
    finally:
        for proc in (frontend, sidecar):
            proc.terminate()
            proc.wait(30)
