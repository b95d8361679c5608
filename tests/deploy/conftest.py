"""The deployment tests' shared Portico under a real Prometheus (test_prometheus.py,
test_dashboard.py): started once, with known traffic sent before Prometheus' checks."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.prometheus import Prometheus, binary
from tests.stack import Stack

MODEL = "fake-model"


@dataclass
class Traffic:
    """What the test sent, to compare with what Prometheus read."""

    json_ok: int = 0
    streams_ok: int = 0
    not_found: int = 0
    bad: int = 0
    retrieved: int = 0
    livez: int = 0
    sessions_opened: int = 0  # creates answered with a function call: stored waiting
    continued: int = 0  # tool_outputs continuations
    usage: dict[str, int] = field(
        default_factory=lambda: {"input": 0, "output": 0, "cached": 0, "reasoning": 0}
    )

    def count(self, usage: dict[str, Any]) -> None:
        self.usage["input"] += usage["input_tokens"]
        self.usage["output"] += usage["output_tokens"]
        self.usage["cached"] += usage["input_tokens_details"]["cached_tokens"]
        self.usage["reasoning"] += usage["output_tokens_details"]["reasoning_tokens"]


@dataclass
class Observed:
    stack: Stack
    prometheus: Prometheus
    traffic: Traffic
    tmp: Path  # the frontend's TMPDIR: its multiprocess folder is made there


def _send(stack: Stack) -> Traffic:
    """JSON and streamed creates, errors, a retrieve; each on a fresh connection, so the
    kernel spreads them over both workers."""
    traffic = Traffic()
    url = stack.url("/v1/responses")
    for i in range(4):
        reply = httpx.post(url, json={"model": MODEL, "input": f"json number {i}"}, timeout=30)
        assert reply.status_code == 200, reply.text
        traffic.json_ok += 1
        traffic.count(reply.json()["usage"])
        last_id = reply.json()["id"]
    for i in range(3):
        # paced (fake:delay), so each token arrives in a batch of its own: inter-token latency
        body = {"model": MODEL, "input": f"stream number {i} fake:delay=0.01", "stream": True}
        with httpx.stream("POST", url, json=body, timeout=30) as stream:
            assert stream.status_code == 200
            lines = [line for line in stream.iter_lines() if line.startswith("data: {")]
        final = json.loads(lines[-1][len("data: ") :])
        assert final["type"] == "response.completed", final
        traffic.streams_ok += 1
        traffic.count(final["response"]["usage"])
    reply = httpx.post(url, json={"model": "no-such-model", "input": "hi"}, timeout=30)
    assert reply.status_code == 404
    traffic.not_found += 1
    headers = {"Content-Type": "application/json"}
    reply = httpx.post(url, content=b"{not json", headers=headers, timeout=30)
    assert reply.status_code == 400
    traffic.bad += 1
    reply = httpx.get(stack.url(f"/v1/responses/{last_id}"), timeout=30)
    assert reply.status_code == 200
    traffic.retrieved += 1
    _tool_sessions(stack, traffic)
    for _ in range(30):  # a fresh connection each: both workers get some
        assert httpx.get(stack.url("/livez"), timeout=30).status_code == 200
        traffic.livez += 1
    return traffic


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def _tool_sessions(stack: Stack, traffic: Traffic) -> None:
    """Two responses end in a function call (two sessions opened); one is continued."""
    url = stack.url("/v1/responses")
    body = {"model": MODEL, "input": "Use get_weather for Paris.", "tools": [WEATHER]}
    created = []
    for _ in range(2):
        reply = httpx.post(url, json=body, timeout=30)
        assert reply.status_code == 200, reply.text
        created.append(reply.json())
        traffic.json_ok += 1
        traffic.sessions_opened += 1
        traffic.count(reply.json()["usage"])
    first = created[0]
    (call,) = [item for item in first["output"] if item["type"] == "function_call"]
    outputs = [{"call_id": call["call_id"], "output": "sunny"}]
    reply = httpx.post(f"{url}/{first['id']}/tool_outputs", json={"tool_outputs": outputs})
    assert reply.status_code == 200, reply.text
    traffic.continued += 1
    before = first["usage"]  # the continuation's usage is the sum of its rounds
    after = reply.json()["usage"]
    round_usage = {
        "input_tokens": after["input_tokens"] - before["input_tokens"],
        "output_tokens": after["output_tokens"] - before["output_tokens"],
        "input_tokens_details": {
            "cached_tokens": after["input_tokens_details"]["cached_tokens"]
            - before["input_tokens_details"]["cached_tokens"]
        },
        "output_tokens_details": {
            "reasoning_tokens": after["output_tokens_details"]["reasoning_tokens"]
            - before["output_tokens_details"]["reasoning_tokens"]
        },
    }
    traffic.count(round_usage)


@pytest.fixture(scope="session")
def observed() -> Iterator[Observed]:
    binary()  # skip (or fail in CI) before starting anything
    tmp = Path(tempfile.mkdtemp(prefix="portico-observed-"))
    stack = Stack("--fake", workers=2, env={"TMPDIR": str(tmp)}).start(timeout=120)
    prometheus: Prometheus | None = None
    try:
        traffic = _send(stack)
        sent = time.time()
        prometheus = Prometheus(f"127.0.0.1:{stack.port}").wait_ready()
        prometheus.scrapes_after(sent + 0.5)
        prometheus.scrapes_after(time.time())  # two samples: rate() over the panels has data
        yield Observed(stack, prometheus, traffic, tmp)
    finally:
        if prometheus is not None:
            prometheus.stop()
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
