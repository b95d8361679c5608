"""The SSE writer: events to `text/event-stream` bytes, keep-alives, and the stream's end.

Owns the byte format (`event:`/`data:` lines, `data: [DONE]` in native mode) and the loop
that relays a sidecar generation to one HTTP client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import msgspec
from sanic import Request

from inference.protocol import RequestError

from ..client.base import Generation
from ..errors import APIError, as_api_error
from .assembler import ResponseAssembler
from .events import Event

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_encode = msgspec.json.Encoder().encode


def encode(events: list[Event]) -> bytes:
    return b"".join(b"event: %s\ndata: %s\n\n" % (e["type"].encode(), _encode(e)) for e in events)


async def relay(
    request: Request,
    generation: Generation,
    assembler: ResponseAssembler,
    *,
    done_marker: bool,
    ping_interval: float,
    on_finish: Callable[[ResponseAssembler], Awaitable[None]],
) -> None:
    """Stream one generation as SSE; the caller closes `generation` afterwards.

    Returns None: the response went out through `request.respond()`, and Sanic logs an
    error for a handler that returns a response after that."""
    response = await request.respond(content_type="text/event-stream", headers=HEADERS)
    assert response is not None
    last_send = time.monotonic()

    async def send(data: bytes) -> None:
        nonlocal last_send
        last_send = time.monotonic()
        await response.send(data)

    async def keep_alive() -> None:
        while True:
            await asyncio.sleep(ping_interval)
            if time.monotonic() - last_send >= ping_interval:
                await send(KEEPALIVE)

    pinger = asyncio.create_task(keep_alive())
    try:
        await send(encode(assembler.start()))
        try:
            async for batch in generation.batches():
                await send(encode(assembler.consume(batch)))
        except (APIError, RequestError) as exc:
            error = as_api_error(exc)
            await send(encode(assembler.fail(error.message)))
        await on_finish(assembler)
        if done_marker:
            await send(DONE)
    finally:
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
    await response.eof()
