"""The observers every response run has: metrics and the response store.

Owns what happens beside the wire when a run starts producing and when it ends; the run
(frontend/run.py) guards each call, so a failing observer never breaks a response.
"""

from __future__ import annotations

import time

from inference.protocol import ChatMessage

from . import metrics, translate
from .run import ResponseRun, RunObserver
from .store import ResponseStore, StoredResponse


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
    """Keeps the final response (whatever its status) and the conversation it continues."""

    def __init__(self, store: ResponseStore, tenant: str, conversation: list[ChatMessage]) -> None:
        self.store = store
        self.tenant = tenant
        self.conversation = conversation

    async def finished(self, run: ResponseRun) -> None:
        response = run.response
        history = self.conversation + translate.output_messages(response["output"])
        await self.store.put(self.tenant, StoredResponse(response=response, conversation=history))
