"""The engine interface the sidecar server drives: one generate stream plus a few queries.

Owns the seam between the socket server (which knows frames and connections) and an engine
(the real vLLM adapter in inference/engine/, or the instant fake in inference/fake.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from .protocol import (
    CountTokens,
    Delta,
    Final,
    GenerateRequest,
    Handshake,
    HealthReply,
    Started,
    StatsReply,
    TokenCount,
)

Event = Started | Delta | Final


class Engine(Protocol):
    """What the sidecar server needs from an engine.

    ``generate`` yields one Started, then Deltas, then exactly one Final. It raises
    protocol.RequestError (before Started) for a request the engine refuses. Closing the
    iterator early (a dropped connection, a CANCEL) must abort the engine request.
    """

    def handshake(self) -> Handshake: ...

    def generate(self, request: GenerateRequest) -> AsyncIterator[Event]: ...

    async def count_tokens(self, request: CountTokens) -> TokenCount: ...

    async def health(self) -> HealthReply: ...

    def stats(self) -> StatsReply: ...

    async def shutdown(self) -> None: ...
