"""One Redis store shared by real frontends: two Sanic workers, and two frontend processes
(as two pods, each with its own launcher and fake sidecar) on one redis-server.

Every request opens a fresh connection, so the kernel spreads them over the workers: with a
store per worker, about half of these reads would be 404s. Also: a frontend with two workers
and no store URL refuses to start, in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests import spec
from tests.pods import call, two_pods
from tests.redis_server import RedisServer
from tests.stack import ROOT, Stack, free_port

MODEL = "fake-model"


@pytest.fixture(scope="module")
def pods(redis_server: RedisServer) -> Iterator[tuple[Stack, Stack]]:
    yield from two_pods(redis_server)


def create(stack: Stack, **body: Any) -> dict[str, Any]:
    reply = call("POST", stack.url("/v1/responses"), json={"model": MODEL, **body})
    assert reply.status_code == 200, reply.text
    created: dict[str, Any] = reply.json()
    spec.validate_response(created)
    return created


def test_two_workers_see_every_stored_response(pods: tuple[Stack, Stack]) -> None:
    two_workers, _ = pods
    assert "local redis-server" not in two_workers.log()  # the URL given is used
    ids = [create(two_workers, input=f"note {n}")["id"] for n in range(10)]
    for rid in ids:
        reply = call("GET", two_workers.url(f"/v1/responses/{rid}"))
        assert reply.status_code == 200, reply.text
        spec.validate_response(reply.json())
    metrics = call("GET", two_workers.url("/metrics")).text
    entries = next(x for x in metrics.splitlines() if x.startswith("portico_store_entries "))
    assert float(entries.split()[-1]) >= 10


def test_a_conversation_moves_between_pods_and_workers(pods: tuple[Stack, Stack]) -> None:
    previous: str | None = None
    prompt_tokens = []
    turns = []
    for turn in range(8):
        pod = pods[turn % 2]
        body = create(pod, input=f"turn {turn}", previous_response_id=previous)
        assert body["previous_response_id"] == previous
        previous = body["id"]
        turns.append(body)
        prompt_tokens.append(body["usage"]["input_tokens"])
    assert prompt_tokens == sorted(prompt_tokens) and len(set(prompt_tokens)) == 8
    last = turns[-1]
    first_pod, second_pod = pods
    fetched = call("GET", first_pod.url(f"/v1/responses/{last['id']}")).json()
    assert fetched == last
    listed = call("GET", second_pod.url(f"/v1/responses/{last['id']}/input_items")).json()
    spec.validate(listed, "ResponseItemList")
    assert [i["content"][0]["text"] for i in listed["data"]] == ["turn 7"]
    counted = call(
        "POST",
        second_pod.url("/v1/responses/input_tokens"),
        json={"model": MODEL, "input": "turn 8", "previous_response_id": last["id"]},
    ).json()
    spec.validate(counted, "TokenCountsResource")
    assert counted["input_tokens"] > prompt_tokens[-1]

    middle = turns[3]["id"]
    deleted = call("DELETE", second_pod.url(f"/v1/responses/{middle}"))
    assert deleted.json() == {"id": middle, "object": "response", "deleted": True}
    for _ in range(4):
        assert call("GET", first_pod.url(f"/v1/responses/{middle}")).status_code == 404
    broken = call(
        "POST",
        first_pod.url("/v1/responses"),
        json={"model": MODEL, "input": "more", "previous_response_id": last["id"]},
    )
    assert broken.status_code == 404
    error = broken.json()["error"]
    assert error["code"] == "previous_response_not_found"
    assert error["param"] == "previous_response_id"
    assert middle in error["message"]


def port_args() -> list[str]:
    return ["--port", str(free_port()), "--no-motd"]


def test_memory_with_two_workers_refuses_to_start() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PORTICO_STORE_URL"}
    env["PORTICO_SIDECAR_SOCKET"] = "/nonexistent/sidecar.sock"
    done = subprocess.run(
        [sys.executable, "-m", "sanic", "frontend.app", "--workers", "2", *port_args()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "PORTICO_STORE_URL" in lines[0] and "--responses-store-url" in lines[0]


def test_the_sdk_on_another_pod(pods: tuple[Stack, Stack]) -> None:
    """openai's own client: retrieve with include, input_items paged by the SDK's cursor,
    input_tokens, cancel and delete, each on the pod that did not create the response."""
    first_pod, second_pod = pods
    turns = [{"role": "user", "content": f"line {n}"} for n in range(5)]
    created = first_pod.openai().responses.create(model=MODEL, input=turns)  # type: ignore[arg-type]
    other = second_pod.openai()
    fetched = other.responses.retrieve(created.id, include=["message.output_text.logprobs"])
    assert fetched.id == created.id
    paged = other.responses.input_items.list(created.id, limit=2, order="asc")
    texts = [item.model_dump()["content"][0]["text"] for item in paged]
    assert texts == [f"line {n}" for n in range(5)]  # three pages, followed by the SDK
    counted = other.responses.input_tokens.count(
        model=MODEL, input="and one more", previous_response_id=created.id
    )
    assert counted.input_tokens > 0
    with pytest.raises(openai.BadRequestError, match="background=true"):
        other.responses.cancel(created.id)
    other.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        first_pod.openai().responses.retrieve(created.id)
