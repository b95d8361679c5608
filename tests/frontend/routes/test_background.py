"""Background runs and resumable streams in-process (background.py, streaming/replay.py,
store/runlog.py's memory backend): queued at once, polled, streamed and resumed, cancelled,
refused, orphaned (no lease) and capped. The real app with the scripted sidecar.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Sanic

from frontend import background
from frontend.store import StoredResponse
from frontend.store.runlog import MemoryRunLog
from frontend.streaming import events as ev
from inference.protocol import Delta, ErrorCode, RequestError
from tests import spec
from tests.frontend.routes.test_responses_routes import (
    Portico,
    Reply,
    assert_error,
    parse_sse,
    portico,
    stream_of,
)
from tests.frontend.scripted import Hang, Pause, Script, reply

FINAL = ("completed", "incomplete", "failed", "cancelled")


class KeptRunLog(MemoryRunLog):
    """Outlives the test client's start and stop around every request, as KeptStore does."""

    async def close(self) -> None:
        pass


def kept(p: Portico, **runlog: Any) -> Portico:
    log = KeptRunLog(**{"max_bytes": 1 << 20, "ttl": 3600, **runlog})

    @p.app.before_server_start
    async def keep_runlog(app: Sanic) -> None:
        app.ctx.runlog = log

    return p


def slow(*texts: str, pause: float = 0.02) -> Script:
    steps: list[Any] = []
    for text in texts:
        steps += [Pause(pause), Delta(text=text, tokens=1)]
    return Script([*steps, *reply().steps[-1:]])


async def poll(p: Portico, rid: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body: dict[str, Any] = (await p.request("GET", f"/v1/responses/{rid}")).json()
        spec.validate_response(body)
        if body["status"] in FINAL or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.02)


async def resume(p: Portico, rid: str, **params: Any) -> Reply:
    return await p.request("GET", f"/v1/responses/{rid}", params={"stream": "true", **params})


async def test_background_needs_store() -> None:
    p = kept(portico())
    refused = await p.create(input="hi", background=True, store=False)
    assert_error(refused, 400, "invalid_value", "background")


async def test_queued_at_once_then_polled_and_replayed() -> None:
    p = kept(portico(slow("Hel", "lo", " there")))
    created = await p.create(input="Hi!", background=True)
    assert created.status_code == 200, created.text
    queued = created.json()
    spec.validate_response(queued)
    assert (queued["status"], queued["background"]) == ("queued", True)
    final = await poll(p, queued["id"])
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == "Hello there"

    stream = stream_of(await resume(p, queued["id"]))  # the whole stream, validated
    assert stream.done
    assert stream.events[0]["response"]["status"] == "queued"
    assert stream.events[-1]["response"] == final
    tail = stream_of_tail(await resume(p, queued["id"], starting_after=3))
    assert tail == stream.events[4:]
    assert stream_of_tail(await resume(p, queued["id"], starting_after=len(stream.events))) == []


def stream_of_tail(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status_code == 200, reply.text
    return parse_sse(reply.text).events


async def test_a_background_stream_is_followed_live() -> None:
    p = kept(portico(slow("a", "b", "c", "d")))
    stream = stream_of(await p.create(input="Hi!", background=True, stream=True))
    assert stream.events[0]["response"]["status"] == "queued"
    assert stream.events[-1]["response"]["status"] == "completed"
    rid = stream.events[0]["response"]["id"]
    assert (await poll(p, rid)) == stream.events[-1]["response"]


async def test_a_resume_follows_a_running_response() -> None:
    p = kept(portico(slow("a", "b", "c", "d", "e", pause=0.05)))
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    await asyncio.sleep(0.08)
    stream = stream_of(await resume(p, rid))
    assert stream.events[-1]["response"]["output"][0]["content"][0]["text"] == "abcde"


async def test_cancel_from_the_route_ends_it_cancelled() -> None:
    p = kept(portico(Script([Delta(text="so far", tokens=1), Hang()])))
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    for _ in range(100):  # until the run has started
        if p.client.generations:
            break
        await asyncio.sleep(0.01)
    cancelled = await p.request("POST", f"/v1/responses/{rid}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    spec.validate_response(body)
    assert body["status"] == "cancelled"
    assert (rid, "cancelled") in p.client.cancels  # the sidecar was asked, by request id
    stream = stream_of(await resume(p, rid))
    assert stream.events[-1]["type"] == "response.failed"
    assert stream.events[-1]["response"]["status"] == "cancelled"
    again = await p.request("POST", f"/v1/responses/{rid}/cancel")  # answered as it is
    assert again.json() == body


async def test_cancelling_a_finished_one_answers_it_as_it_is() -> None:
    p = kept(portico(reply("Done.")))
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    final = await poll(p, rid)
    assert final["status"] == "completed"
    answer = await p.request("POST", f"/v1/responses/{rid}/cancel")
    assert answer.json() == final
    assert p.client.cancels == []


async def test_a_refused_request_fails_the_response() -> None:
    refusal = RequestError(ErrorCode.CONTEXT_LENGTH_EXCEEDED, "Too long.", "input")
    p = kept(portico(Script(refuse=refusal)))
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    final = await poll(p, rid)
    assert final["status"] == "failed"
    assert final["error"] == {"code": "invalid_prompt", "message": "Too long."}
    stream = stream_of(await resume(p, rid))
    assert [e["type"] for e in stream.events] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]


async def test_an_orphan_without_a_lease_is_marked_failed() -> None:
    """What a reader finds when the owning process died: in progress, no lease."""
    p = kept(portico(reply("unused")))
    body = (await p.create(input="Hi!", background=True)).json()
    final = await poll(p, body["id"])  # a finished run, to borrow a valid response
    orphan = dict(final, id="resp_orphan", status="in_progress", output=[], completed_at=None)
    await p.store.put("", StoredResponse(response=orphan))
    runlog = p.app.ctx.runlog
    start = [ev.response_event("created", 0, dict(orphan, status="queued"))]
    start.append(ev.response_event("in_progress", 1, orphan))
    await runlog.append("", "resp_orphan", background.frames(start))

    stream = stream_of(await resume(p, "resp_orphan"))
    assert stream.events[-1]["response"]["status"] == "failed"
    failed = (await p.request("GET", "/v1/responses/resp_orphan")).json()
    spec.validate_response(failed)
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "server_error", "message": background.ORPHANED}
    assert stream.events[-1]["response"] == failed


async def test_a_lease_keeps_it_in_progress() -> None:
    p = kept(portico(Script([Delta(text="x", tokens=1), Hang()])))
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    await asyncio.sleep(background.TICK * 2)
    found = (await p.request("GET", f"/v1/responses/{rid}")).json()
    assert found["status"] == "in_progress"
    await p.request("POST", f"/v1/responses/{rid}/cancel")


async def test_a_resume_from_before_the_buffer_is_400() -> None:
    p = kept(portico(slow(*[f"word{n} " for n in range(40)], pause=0)), max_bytes=3000)
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    assert (await poll(p, rid))["status"] == "completed"
    early = await resume(p, rid)
    error = assert_error(early, 400, "invalid_value", "starting_after")
    assert "--responses-stream-buffer-max-bytes" in error["message"]
    window = await p.app.ctx.runlog.read("", rid, -1)
    late = await resume(p, rid, starting_after=window.first - 1)
    events = stream_of_tail(late)
    assert events[0]["sequence_number"] == window.first
    assert events[-1]["type"] == "response.completed"


async def test_resume_refuses_bad_queries() -> None:
    p = kept(portico())
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    await poll(p, rid)
    for value in ("-1", "x"):
        assert_error(await resume(p, rid, starting_after=value), 400, "invalid_value",
                     "starting_after")  # fmt: skip
    assert_error(
        await p.request("GET", f"/v1/responses/{rid}", params={"stream": "maybe"}),
        400,
        "invalid_value",
        "stream",
    )
    assert_error(await resume(p, "resp_nope"), 404, "not_found", "response_id")


async def test_a_stopping_worker_ends_its_runs_failed() -> None:
    p = kept(portico(Script([Delta(text="so far", tokens=1), Hang()])))
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    for _ in range(100):
        if p.client.generations:
            break
        await asyncio.sleep(0.01)
    [task] = p.app.ctx.background
    task.cancel()  # what a stopping worker does to its tasks
    await asyncio.gather(task, return_exceptions=True)
    assert p.client.last.aborted  # the engine request was dropped
    stream = stream_of(await resume(p, rid))
    final = stream.events[-1]["response"]
    assert (final["status"], final["error"]["message"]) == ("failed", background.STOPPED)
    assert (await p.request("GET", f"/v1/responses/{rid}")).json() == final


async def test_an_owner_whose_run_was_ended_elsewhere_stops() -> None:
    """A reader took the run for orphaned (its lease lapsed) and ended it: the owner aborts
    its generation and leaves the reader's end in the store."""
    p = kept(portico(slow(*"abcdefghij", pause=0.05)))
    rid = (await p.create(input="Hi!", background=True)).json()["id"]
    await asyncio.sleep(0.12)
    runlog = p.app.ctx.runlog
    window = await runlog.read("", rid, 1 << 62)
    entry = await p.store.get("", rid)
    assert entry is not None and window is not None
    failed = dict(entry.response, status="failed")
    failed["error"] = {"code": "server_error", "message": background.ORPHANED}
    event = ev.response_event("failed", window.last + 1, failed)
    await runlog.append("", rid, background.frames([event]), terminal=True)
    await p.store.put("", StoredResponse(response=failed))
    [task] = p.app.ctx.background
    await task
    assert p.client.last.aborted
    assert (await poll(p, rid))["status"] == "failed"
    stream_of(await resume(p, rid))  # still one valid stream, ended by the reader
