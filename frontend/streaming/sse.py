"""The SSE writer: events to `text/event-stream` bytes, keep-alives, and the stream's end.

Owns the byte format (`event:`/`data:` lines, `data: [DONE]` in native mode) and the loop
that relays one response run to one HTTP client. What the events mean is the run's business
(frontend/run.py); this module only frames them, adds the native extension events by the
request's StreamMode (extension_events.py), and keeps an idle connection alive: a
`response.ping` event in native mode, an SSE comment in compatibility mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

import msgspec
from sanic import Request

from ..extensions import StreamMode
from ..metrics import counts_stream
from .events import Event
from .extension_events import ExtensionEvents

if TYPE_CHECKING:
    from ..run import ResponseRun

log = logging.getLogger("portico.sse")
DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_encode = msgspec.json.Encoder().encode


def encode(events: list[Event]) -> bytes:
    return b"".join(b"event: %s\ndata: %s\n\n" % (e["type"].encode(), _encode(e)) for e in events)


def idle_frame(extras: ExtensionEvents) -> bytes:
    """What an idle stream sends: a `response.ping` event (native), else an SSE comment."""
    return encode(extras.ping()) or KEEPALIVE


@counts_stream
async def relay(request: Request, run: ResponseRun, mode: StreamMode) -> None:
    """Stream one started run as SSE; the caller closes the run afterwards.

    Returns None: the response went out through `request.respond()`, and Sanic logs an
    error for a handler that returns a response after that."""
    response = await request.respond(content_type="text/event-stream", headers=HEADERS)
    assert response is not None
    last_send = time.monotonic()
    extras = ExtensionEvents(mode)
    ping_interval = mode.ping_interval

    async def send(data: bytes) -> None:
        nonlocal last_send
        last_send = time.monotonic()
        await response.send(data)

    async def keep_alive() -> None:
        # Wake when the stream will have been silent for a whole interval (not on a fixed
        # grid, which let up to two intervals pass without a byte).
        while True:
            idle = time.monotonic() - last_send
            if idle >= ping_interval:
                await send(idle_frame(extras))
            else:
                await asyncio.sleep(ping_interval - idle)

    pinger = asyncio.create_task(keep_alive())
    try:
        try:
            async for events in run.events():
                await send(encode(extras.add(events)))
        except (asyncio.CancelledError, ConnectionError):
            raise  # the client left: the run is aborted by the caller's close()
        except Exception:  # a failure past the run's own handling: still end well-formed
            log.exception("the stream of %s broke", run.request.request_id)
            if not run.done:
                await send(encode(extras.add(run.assembler.error("The server had an error."))))
        if mode.done_marker:
            await send(DONE)
    finally:
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
    await response.eof()
