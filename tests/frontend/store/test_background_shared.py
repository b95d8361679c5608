"""Background runs across real frontends on one redis-server: a pod with two Sanic workers and
a second pod (each its own launcher and fake sidecar), plus a lone frontend process that is
killed. Created on one, polled, resumed (raw SSE and the SDK) and cancelled on the other; a
killed owner's run is failed within the lease; a resume before the retained window is 400.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from frontend.background import LEASE_TTL
from tests import spec
from tests.frontend.routes.test_responses_routes import parse_sse
from tests.pods import call, two_pods
from tests.redis_server import RedisServer
from tests.stack import ROOT, Stack, free_port

MODEL = "fake-model"
FINAL = ("completed", "incomplete", "failed", "cancelled")


@pytest.fixture(scope="module")
def pods(redis_server: RedisServer) -> Iterator[tuple[Stack, Stack]]:
    yield from two_pods(redis_server, "--fake-reply-tokens", "40")


def create(stack: Stack, text: str, **body: Any) -> dict[str, Any]:
    reply = call(
        "POST",
        stack.url("/v1/responses"),
        json={"model": MODEL, "input": text, "background": True, **body},
    )
    assert reply.status_code == 200, reply.text
    created: dict[str, Any] = reply.json()
    spec.validate_response(created)
    assert created["status"] == "queued"
    return created


def get(stack: Stack, rid: str) -> dict[str, Any]:
    reply = call("GET", stack.url(f"/v1/responses/{rid}"))
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    spec.validate_response(body)
    return body


def poll(stack: Stack, rid: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (body := get(stack, rid))["status"] not in FINAL and time.monotonic() < deadline:
        time.sleep(0.05)
    return body


def resume(stack: Stack, rid: str, **params: Any) -> httpx.Response:
    return call("GET", stack.url(f"/v1/responses/{rid}"), params={"stream": "true", **params})


def events_of(reply: httpx.Response) -> list[dict[str, Any]]:
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/event-stream")
    return parse_sse(reply.text).events


def test_created_on_one_pod_resumed_and_polled_on_the_other(pods: tuple[Stack, Stack]) -> None:
    first, second = pods
    rid = create(first, "slowly fake:delay=0.1")["id"]
    assert get(second, rid)["status"] in ("queued", "in_progress")
    events = events_of(resume(second, rid))  # from response.created, then live to the end
    spec.validate_event_sequence(events)
    assert events[0]["response"]["status"] == "queued"
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert get(first, rid) == final == get(second, rid)
    assert events_of(resume(first, rid, starting_after=5)) == events[6:]

    sdk = second.openai()
    streamed = list(sdk.responses.retrieve(rid, stream=True))
    assert [e.model_dump(exclude_none=True)["type"] for e in streamed] == [
        e["type"] for e in events
    ]
    later = list(sdk.responses.retrieve(rid, stream=True, starting_after=10))
    assert [e.sequence_number for e in later] == [e["sequence_number"] for e in events[11:]]
    with first.openai().responses.stream(response_id=rid) as manager:
        assert manager.get_final_response().output_text == final["output"][0]["content"][0]["text"]


def test_a_background_stream_from_the_create(pods: tuple[Stack, Stack]) -> None:
    first, _ = pods
    reply = call(
        "POST",
        first.url("/v1/responses"),
        json={"model": MODEL, "input": "hi", "background": True, "stream": True},
    )
    events = events_of(reply)
    spec.validate_event_sequence(events)
    assert events[0]["response"]["status"] == "queued"
    assert events[-1]["response"]["status"] == "completed"


def test_cancelled_from_the_other_pod(pods: tuple[Stack, Stack]) -> None:
    first, second = pods
    rid = create(first, "slowly fake:delay=0.25")["id"]
    deadline = time.monotonic() + 5
    while get(first, rid)["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    cancelled = second.openai().responses.cancel(rid)
    assert cancelled.status == "cancelled"
    assert time.monotonic() - started < 3
    assert first.wait_idle().running == 0  # the engine request was aborted on its own pod
    assert get(second, rid)["status"] == "cancelled"
    events = events_of(resume(second, rid))
    spec.validate_event_sequence(events)
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["status"] == "cancelled"
    again = call("POST", second.url(f"/v1/responses/{rid}/cancel")).json()  # as it is
    assert again["status"] == "cancelled"


class Lone:
    """One frontend process (`sanic frontend.app --single-process`) on a pod's sidecar."""

    def __init__(self, sidecar: Stack, env: dict[str, str]) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sanic", "frontend.app", "--single-process",
             "--port", str(self.port), "--no-motd"],
            cwd=ROOT,
            env={**os.environ, "PORTICO_SIDECAR_SOCKET": sidecar.socket,
                 "PORTICO_HEALTH_INTERVAL": "0.5", **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url("/health"), timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError("the lone frontend did not start")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


def test_a_killed_owner_fails_its_run_and_a_capped_log_refuses_an_early_resume(
    pods: tuple[Stack, Stack], redis_server: RedisServer
) -> None:
    first, second = pods
    url = second.env["PORTICO_STORE_URL"]
    lone = Lone(second, {"PORTICO_STORE_URL": url, "PORTICO_STREAM_BUFFER_MAX_BYTES": "6000"})
    try:
        body = {"model": MODEL, "input": "hi", "background": True}
        capped = call("POST", lone.url("/v1/responses"), json=body).json()["id"]
        assert poll(first, capped)["status"] == "completed"
        early = resume(first, capped)
        assert early.status_code == 400, early.text
        assert early.json()["error"]["param"] == "starting_after"
        late = events_of(resume(first, capped, starting_after=30))
        assert late[0]["sequence_number"] == 31 and late[-1]["type"] == "response.completed"

        slow = {**body, "input": "slowly fake:delay=0.25"}
        rid = call("POST", lone.url("/v1/responses"), json=slow).json()["id"]
        deadline = time.monotonic() + 5
        while get(first, rid)["status"] == "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        lone.kill()
    killed = time.monotonic()
    failed = poll(first, rid, timeout=LEASE_TTL + 5)
    assert failed["status"] == "failed", failed
    assert failed["error"]["code"] == "server_error"
    assert time.monotonic() - killed < LEASE_TTL + 4  # the lease, a reader's next look, load
    events = events_of(resume(second, rid))
    spec.validate_event_sequence(events)
    assert events[-1]["response"] == failed == get(second, rid)
    assert second.wait_idle().running == 0  # its dropped connection aborted the generation
