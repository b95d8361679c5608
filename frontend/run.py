"""The run of one response: a started sidecar generation in, stream events and a final
Response out.

Owns what a generation's outcome means, the same on every path: the JSON route drains a run,
the SSE writer frames it, and observers (the store, metrics; later rate limits and background
workers) are told when the first token arrives and when the run ends. A run always ends with
exactly one terminal event: completed / incomplete from the engine's finish reason, failed for
an engine error, a lost sidecar, an unexpected exception or the generation timeout, cancelled
when it was cancelled or its client left. A failing observer is logged and never breaks the
wire.

A JSON answer is the final Response, except for failures worth retrying (the engine's own
`error` finish, a lost sidecar, an unexpected exception): those raise the HTTP error (500 or
503 with Retry-After) so clients retry them as they would at OpenAI. A timeout or a stopped
repetition is not retryable: the JSON answer is then the failed Response itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from inference.protocol import Delta, Final, FinishReason, GenerateRequest, RequestError

from .client.base import Generation, SidecarClient
from .client.errors import SidecarUnavailable
from .errors import APIError, ServerError, ServiceUnavailable
from .streaming.assembler import ResponseAssembler
from .streaming.events import Event

log = logging.getLogger("portico.run")
LOST = "The inference sidecar stopped while generating this response."
UNEXPECTED = "The server had an error while processing your request."


def timeout_message(seconds: float) -> str:
    return (
        f"The response did not finish within the server's generation timeout of {seconds:g} s "
        "(PORTICO_GENERATION_TIMEOUT / --responses-generation-timeout); it was stopped."
    )


class RunObserver:
    """Hooks on a run's life. Subclasses override what they need; both are guarded."""

    def first_token(self, run: ResponseRun) -> None:
        """The first output token arrived (text or a tool call)."""

    def deltas(self, run: ResponseRun, batch: Sequence[Delta | Final]) -> None:
        """A batch of sidecar messages arrived (the hot path: keep it cheap)."""

    async def finished(self, run: ResponseRun) -> None:
        """The run reached its final state (`run.response` is final)."""


class ResponseRun:
    def __init__(
        self,
        sidecar: SidecarClient,
        request: GenerateRequest,
        assembler: ResponseAssembler,
        *,
        observers: Sequence[RunObserver] = (),
        timeout: float = 0.0,
    ) -> None:
        self.sidecar = sidecar
        self.request = request
        self.assembler = assembler
        self.observers = list(observers)
        self.timeout = timeout
        self.generation: Generation | None = None
        self.timed_out = False
        self.retryable: APIError | None = None  # what a JSON answer raises instead
        self._timer: asyncio.TimerHandle | None = None
        self._settled = False
        assembler.on_first_token = self._first_token

    @property
    def response(self) -> dict[str, Any]:
        return self.assembler.response

    @property
    def done(self) -> bool:
        return self.assembler.done

    async def start(self) -> None:
        """Send the request; raises (before any event exists) if the sidecar refuses it."""
        self.generation = await self.sidecar.generate(self.request)
        if self.timeout > 0:
            self._timer = asyncio.get_running_loop().call_later(self.timeout, self._expire)

    def _expire(self) -> None:
        """The generation timeout: drop the generation; `events` then ends it as failed."""
        if self.generation is not None and not self.done:
            self.timed_out = True
            log.warning("response %s hit the generation timeout", self.request.request_id)
            self.generation.abort()

    async def events(self) -> AsyncIterator[list[Event]]:
        """Batches of stream events, from response.created to exactly one terminal event."""
        assert self.generation is not None, "start() first"
        yield self.assembler.start()
        rid = self.request.request_id
        try:
            async for batch in self.generation.batches():
                if self.timed_out:
                    break  # whatever comes after the timeout (a FINAL abort) is not the outcome
                events = self.assembler.consume(batch)
                for observer in self.observers:
                    try:
                        observer.deltas(self, batch)
                    except Exception:
                        log.exception("observer %s failed", type(observer).__name__)
                yield events
        except SidecarUnavailable as exc:
            if not self.timed_out:
                log.warning("response %s lost the sidecar: %s", rid, exc)
        except RequestError as exc:  # ERROR after STARTED: the engine broke mid-stream
            log.warning("response %s failed in the engine: %s", rid, exc)
            message = f"The engine failed while generating: {exc.message}"
            self.retryable = ServerError(message)
            yield self.assembler.fail(message)
        except Exception:
            log.exception("response %s failed unexpectedly", rid)
            self.retryable = ServerError(UNEXPECTED)
            yield self.assembler.error(UNEXPECTED)
        if not self.done:  # the timeout, or the generation ended without FINAL
            if self.timed_out:
                yield self.assembler.fail(timeout_message(self.timeout))
            else:
                self.retryable = ServiceUnavailable(LOST)
                yield self.assembler.fail(LOST)
        elif self.assembler.finish_reason == FinishReason.ERROR:
            error = self.response.get("error") or {}
            self.retryable = ServerError(error.get("message") or UNEXPECTED)
        await self.close()

    async def result(self) -> dict[str, Any]:
        """Run to the end without streaming: the final Response, or the retryable error."""
        async for _ in self.events():
            pass
        if self.retryable is not None:
            raise self.retryable
        return self.response

    async def close(self) -> None:
        """Settle the run once: a run left unfinished (its client went away) is aborted and
        marked cancelled; the connection is released; observers are told."""
        if self._settled:
            return
        self._settled = True
        if self._timer is not None:
            self._timer.cancel()
        if not self.done:
            self.assembler.cancel()
        if self.generation is not None:
            await self.generation.close()
        for observer in self.observers:
            try:
                await observer.finished(self)
            except Exception:
                log.exception("observer %s failed", type(observer).__name__)

    def _first_token(self) -> None:
        for observer in self.observers:
            try:
                observer.first_token(self)
            except Exception:
                log.exception("observer %s failed", type(observer).__name__)

    async def __aenter__(self) -> ResponseRun:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
