"""The sidecar client interface the routes use: one generate call plus a few queries.

Owns the seam between HTTP handling and the socket: the response run depends on
SidecarClient, and tests may swap the transport (a scripted client in-process) while the
fake sidecar keeps the real protocol for the contract tests. Transport failures raise
`client.errors.SidecarUnavailable`; the sidecar's refusals raise `protocol.RequestError`.
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
    QueryReply,
    Started,
    StatsReply,
    TokenCount,
)


class Generation(Protocol):
    """A started generation: `started` is known, deltas follow, one Final ends it."""

    request_id: str
    started: Started

    def batches(self) -> AsyncIterator[list[Delta | Final]]:
        """Messages as they arrive, grouped by socket read; the last batch ends with Final."""
        ...

    def abort(self) -> None:
        """Drop the generation now (the engine request is aborted; `batches` stops)."""
        ...

    async def close(self) -> None:
        """Release the connection (pooled after FINAL; closed, so aborted, otherwise)."""
        ...


class SidecarClient(Protocol):
    @property
    def handshake(self) -> Handshake | None: ...

    @property
    def ready(self) -> bool:
        """The one readiness predicate: handshaken and the last health probe passed."""
        ...

    async def generate(self, request: GenerateRequest) -> Generation:
        """Send the request; return once the sidecar accepted it (raise if it refused)."""
        ...

    async def cancel(self, request_id: str, reason: str = "client") -> bool:
        """Abort the generation with this request id from any worker; False if unknown."""
        ...

    async def query(self, request_id: str) -> QueryReply: ...

    async def count_tokens(self, request: CountTokens) -> TokenCount: ...

    async def stats(self) -> StatsReply: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
