"""The sidecar client interface the routes use: one generate call plus a few queries.

Owns the seam between HTTP handling and the socket: routes depend on SidecarClient, and
tests may swap the transport while the fake sidecar keeps the real protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from inference.protocol import (
    CountTokens,
    Delta,
    Final,
    GenerateRequest,
    Handshake,
    Started,
    StatsReply,
    TokenCount,
)


class Generation(Protocol):
    """A started generation: `started` is known, deltas follow, one Final ends it."""

    started: Started

    def batches(self) -> AsyncIterator[list[Delta | Final]]:
        """Messages as they arrive, grouped by socket read; the last batch ends with Final."""
        ...

    def __aiter__(self) -> AsyncIterator[Delta | Final]: ...

    async def close(self) -> None:
        """Release the connection (pooled after FINAL; closed, so aborted, otherwise)."""
        ...


class SidecarClient(Protocol):
    @property
    def handshake(self) -> Handshake | None: ...

    @property
    def healthy(self) -> bool: ...

    async def generate(self, request: GenerateRequest) -> Generation:
        """Send the request; return once the sidecar accepted it (raise if it refused)."""
        ...

    async def count_tokens(self, request: CountTokens) -> TokenCount: ...

    async def stats(self) -> StatsReply: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
