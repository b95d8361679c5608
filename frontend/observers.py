"""The observers every response run has: metrics and the response store.

Owns what happens beside the wire when a run starts producing and when it ends; the run
(frontend/run.py) guards each call, so a failing observer never breaks a response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from inference.protocol import ChatMessage, Delta, Final

from . import metrics
from .run import ResponseRun, RunObserver
from .store import ResponseStore, StoredResponse

log = logging.getLogger("portico.store")


class MetricsObserver(RunObserver):
    """Time to first token, inter-token latency, tokens and final statuses; responses in
    flight and waiting for their first token. A continuation's observer overrides `usage`."""

    def __init__(self, model: str, started: float) -> None:
        self.model = model
        self.started = started
        self.queued = True
        self.last = 0.0  # when the previous batch of deltas with tokens arrived
        self.inter_token = metrics.InterTokenTally(model)
        metrics.IN_FLIGHT.inc()
        metrics.QUEUED.inc()

    def _dequeue(self) -> None:
        if self.queued:
            self.queued = False
            metrics.QUEUED.dec()

    def first_token(self, run: ResponseRun) -> None:
        metrics.TTFT_SECONDS.labels(self.model).observe(time.monotonic() - self.started)
        self._dequeue()

    def deltas(self, run: ResponseRun, batch: Sequence[Delta | Final]) -> None:
        """One observation per batch, not per token: the gap since the previous batch with
        tokens, over the tokens this one carries (a delta counts at least one). Tallied
        here and written to the histogram in bulk (metrics.InterTokenTally)."""
        tokens = 0
        for message in batch:
            if type(message) is Delta:
                tokens += message.tokens or 1
        if not tokens:
            return
        now = time.monotonic()
        if self.last:
            self.inter_token.observe((now - self.last) / tokens)
        self.last = now

    def usage(self, run: ResponseRun) -> dict[str, Any] | None:
        """The usage to count: the response's."""
        usage: dict[str, Any] | None = run.response.get("usage")
        return usage

    async def finished(self, run: ResponseRun) -> None:
        metrics.IN_FLIGHT.dec()
        self._dequeue()
        self.inter_token.flush()
        usage = self.usage(run)
        if usage is not None:
            metrics.INPUT_TOKENS.labels(self.model).inc(usage["input_tokens"])
            cached = usage["input_tokens_details"]["cached_tokens"]
            metrics.CACHED_TOKENS.labels(self.model).inc(cached)
            metrics.OUTPUT_TOKENS.labels(self.model).inc(usage["output_tokens"])
            details = usage.get("output_tokens_details") or {}
            metrics.REASONING_TOKENS.labels(self.model).inc(details.get("reasoning_tokens") or 0)
        metrics.RESPONSES.labels(self.model, run.response["status"]).inc()


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
        await self.store_final(run)

    async def store_final(self, run: ResponseRun) -> None:
        """Store the run's final response (SessionObserver: with its session)."""
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
