"""Resumable streams: a background response's logged events replayed, then followed live.

Owns `GET /v1/responses/{id}?stream=true[&starting_after=N]` and a background create's own
stream: `window` checks the resume point before anything is sent (a point the log no longer
holds is a 400, never a silently empty stream), and `follow` writes the retained events after
it as SSE, then waits for new ones (run log `wait`: a Redis XREAD BLOCK, or an in-process
event) until the terminal event. While nothing comes it sends keep-alives and, about once a
second, asks `settle` whether the run still lives (a dead owner's response is ended
failed, which appends its terminal event; a run that ended without logging its end ends the
stream). The frames are the owner's own SSE bytes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from sanic import Request

from ..errors import InvalidRequest, NotFound
from ..store.runlog import RunLog, Window
from .sse import DONE, HEADERS, KEEPALIVE

log = logging.getLogger("portico.sse")
WAIT = 1.0  # seconds one wait for new events lasts before a liveness check


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


async def follow(
    request: Request,
    runlog: RunLog,
    tenant: str,
    response_id: str,
    after: int,
    found: Window,
    *,
    settle: Callable[[], Awaitable[bool]],
    done_marker: bool,
    ping_interval: float,
) -> None:
    """Stream the events after `after` (`found`: the first window) to the terminal one."""
    response = await request.respond(content_type="text/event-stream", headers=HEADERS)
    assert response is not None
    position, current, last_send = after, found, time.monotonic()
    while True:
        if current.frames:
            if current.seqs[0] != position + 1:  # fell behind the byte cap while following
                log.warning("the stream of %s lost events past its cap", response_id)
                break
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
                await response.send(KEEPALIVE)
                last_send = time.monotonic()
        current = waited
    if done_marker:
        await response.send(DONE)
    await response.eof()
