"""The observers every response run has: metrics and the response store.

Owns what happens beside the wire when a run starts producing and when it ends; the run
(frontend/run.py) guards each call, so a failing observer never breaks a response.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from inference.protocol import ChatMessage

from . import metrics
from .run import ResponseRun, RunObserver
from .store import ResponseStore, StoredResponse

log = logging.getLogger("portico.store")


class MetricsObserver(RunObserver):
    """Time to first token, tokens and final statuses; responses in flight."""

    def __init__(self, model: str, started: float) -> None:
        self.model = model
        self.started = started
        metrics.IN_FLIGHT.inc()

    def first_token(self, run: ResponseRun) -> None:
        metrics.TTFT_SECONDS.labels(self.model).observe(time.monotonic() - self.started)

    async def finished(self, run: ResponseRun) -> None:
        metrics.IN_FLIGHT.dec()
        response = run.response
        usage = response.get("usage")
        if usage is not None:
            metrics.INPUT_TOKENS.labels(self.model).inc(usage["input_tokens"])
            cached = usage["input_tokens_details"]["cached_tokens"]
            metrics.CACHED_TOKENS.labels(self.model).inc(cached)
            metrics.OUTPUT_TOKENS.labels(self.model).inc(usage["output_tokens"])
        metrics.RESPONSES.labels(self.model, response["status"]).inc()


class StoreObserver(RunObserver):
    """Keeps the final response (whatever its status) with this turn's input: its items as
    `input_items` lists them, and its messages (history.py rebuilds a conversation from the
    turns of its chain, so no turn holds a copy of the ones before it)."""

    def __init__(
        self,
        store: ResponseStore,
        tenant: str,
        messages: list[ChatMessage],
        input_items: list[dict[str, Any]],
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.messages = messages
        self.input_items = input_items

    async def finished(self, run: ResponseRun) -> None:
        await self.keep(run.response)

    async def keep(self, response: dict[str, Any]) -> None:
        """Store `response` as it is now (a background run also stores it queued and
        in progress, so a GET on any worker sees it)."""
        entry = StoredResponse(
            response=response, input_items=self.input_items, messages=self.messages
        )
        if not await self.store.put(self.tenant, entry):
            log.warning(
                "response %s is larger than the store's byte cap "
                "(PORTICO_STORE_MAX_BYTES); it is not stored",
                entry.id,
            )
