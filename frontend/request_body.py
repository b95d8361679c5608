"""The app's request class: a request body must arrive within REQUEST_TIMEOUT.

Owns one rule Sanic leaves out. Sanic reads a (non-streaming) route's body after the headers,
in its handler stage, which only RESPONSE_TIMEOUT bounds; and Portico sets that beyond the
generation timeout (a day when generations are unlimited, config.py), so a client that sends
fewer bytes than its Content-Length, or stalls mid-body, would hold its connection and the
bytes it sent for a day. The body gets REQUEST_TIMEOUT seconds (Sanic's limit on a request's
arrival: 60 by default, `PORTICO_REQUEST_TIMEOUT` with Portico's prefix) from the end of the
headers; past it the answer is OpenAI's 408 `request_timeout` (frontend/errors.py) and the
connection closes, since the rest of its body never came.
"""

from __future__ import annotations

import asyncio

from sanic import Request
from sanic.exceptions import RequestTimeout
from sanic.http import Http


class TimedBodyRequest(Request):
    """Sanic's Request, whose body must arrive within REQUEST_TIMEOUT seconds."""

    async def receive_body(self) -> None:
        if self.body:
            return
        limit = float(self.app.config.REQUEST_TIMEOUT)
        try:
            async with asyncio.timeout(limit):  # in this task: ASGI's receive is bound to it
                await super().receive_body()
        except TimeoutError:
            stream = self.stream
            if isinstance(stream, Http):  # HTTP/1.1: drop the connection after the 408
                stream.keep_alive = False  # ("connection: close")
                stream.request_body = None  # and do not wait again for the missing bytes
            raise RequestTimeout(
                f"The request body did not arrive within {limit:g} seconds "
                "(fewer bytes than its Content-Length were sent)."
            ) from None
