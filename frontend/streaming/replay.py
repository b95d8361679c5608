"""Resumable streams: a background response's logged events replayed, then followed live.

Owns `GET /v1/responses/{id}?stream=true[&starting_after=N]` and a background create's own
stream: `window` checks the resume point before anything is sent (a point the log no longer
holds is a 400, never a silently empty stream), and `follow` writes the retained events after
it as SSE, then waits for new ones (run log `wait`: a Redis XREAD BLOCK, or an in-process
event) until the terminal event. While nothing comes it sends keep-alives and, about once a
second, asks `settle` whether the run still lives (a dead owner's response is ended
failed, which appends its terminal event; a run that ended without logging its end ends the
stream). The frames are the owner's own SSE bytes: OpenAI's events, already cut to the owner's
PORTICO_MAX_STREAM_EVENT_BYTES (the assembler numbered the pieces, so a resume point means
the same in every stream of the response). In compatibility mode they go out as they are; in
native mode they are decoded to add the extension events of the resuming request's mode
(extension_events.py; a resume first reads the retained events before its point, to know the
function calls' ids), and pings are `response.ping` events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import msgspec
from sanic import Request

from ..errors import InvalidRequest, NotFound
from ..extensions import StreamMode
from ..metrics import counts_stream
from ..store.runlog import RunLog, Window
from .events import Event
from .extension_events import ExtensionEvents
from .sse import DONE, HEADERS, encode, idle_frame

log = logging.getLogger("portico.sse")
WAIT = 1.0  # seconds one wait for new events lasts before a liveness check
_decode = msgspec.json.Decoder().decode


def decode(frames: list[bytes]) -> list[Event]:
    """The events of logged SSE frames (`event:` line, `data:` line(s), blank line)."""
    out: list[Event] = []
    for frame in frames:
        for block in frame.split(b"\n\n"):
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    out.append(_decode(line[len(b"data: ") :]))
    return out


async def _extras(
    runlog: RunLog, tenant: str, response_id: str, after: int, mode: StreamMode
) -> ExtensionEvents:
    """The extension events of a resumed stream, knowing the retained events up to `after`."""
    extras = ExtensionEvents(mode)
    if mode.native and after >= 0:
        before = await runlog.read(tenant, response_id, -1)
        if before is not None:
            kept = [f for f, seq in zip(before.frames, before.seqs, strict=True) if seq <= after]
            extras.learn(decode(kept))
        extras.started = True  # the stream's first event went out before
    return extras


async def window(runlog: RunLog, tenant: str, response_id: str, after: int) -> Window:
    """The retained events after `after`; 400 when the resume point is not retained."""
    found = await runlog.read(tenant, response_id, after)
    if found is None:
        raise NotFound(
            f"The stream of response '{response_id}' is no longer kept.", param="response_id"
        )
    if found.first > after + 1:
        raise InvalidRequest(
            f"Invalid value for 'starting_after': the events of response '{response_id}' "
            f"are kept from sequence number {found.first} (the oldest go first, "
            "--responses-stream-buffer-max-bytes); resume from "
            f"starting_after={found.first - 1} or later, or retrieve it without stream.",
            param="starting_after",
            code="invalid_value",
        )
    return found


@counts_stream
async def follow(
    request: Request,
    runlog: RunLog,
    tenant: str,
    response_id: str,
    after: int,
    found: Window,
    *,
    settle: Callable[[], Awaitable[bool]],
    mode: StreamMode,
) -> None:
    """Stream the events after `after` (`found`: the first window) to the terminal one."""
    extras = await _extras(runlog, tenant, response_id, after, mode)
    ping_interval = mode.ping_interval
    response = await request.respond(content_type="text/event-stream", headers=HEADERS)
    assert response is not None
    position, current, last_send = after, found, time.monotonic()
    while True:
        if current.frames:
            if current.seqs[0] != position + 1:  # fell behind the byte cap while following
                log.warning("the stream of %s lost events past its cap", response_id)
                break
            if mode.native:
                await response.send(encode(extras.add(decode(current.frames))))
            else:
                await response.send(b"".join(current.frames))
            position, last_send = current.seqs[-1], time.monotonic()
        if current.done and position >= current.last:
            break
        waited = await runlog.wait(tenant, response_id, position, min(WAIT, ping_interval))
        if waited is None:  # expired or deleted meanwhile
            break
        if not waited.frames and not waited.done:
            if not await settle():  # the run ended without logging its end: stop here
                waited = await runlog.read(tenant, response_id, position) or waited
                if not waited.frames and not waited.done:
                    break
            if time.monotonic() - last_send >= ping_interval:
                extras.last_seq = position
                await response.send(idle_frame(extras))
                last_send = time.monotonic()
        current = waited
    if mode.done_marker:
        await response.send(DONE)
    await response.eof()
