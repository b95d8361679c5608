"""The response store's contract: what one entry holds and what every backend does.

Owns the rules both backends (memory.py, redis.py) keep, and docs/state.md explains:

- an entry is one turn: the Response, this request's input items (for `input_items`) and its
  input as chat messages. A `previous_response_id` conversation is rebuilt by walking the
  chain of entries (`chain`), so memory grows linearly with a conversation, not
  quadratically;
- entries are keyed by tenant and id: one tenant never sees another's. The key holds a
  digest of the tenant id (`tenant_key`), never the id itself, so an API-key-derived tenant
  plugs in without a raw key ever reaching the store;
- every backend has an entry cap, a byte cap (bytes of encoded entries, codec.py) and a TTL
  counted from the put: the oldest entries go first, an expired one is never returned, and
  an entry larger than the byte cap on its own is not kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from inference.protocol import ChatMessage

from .tool_session import ToolSession

# Turns walked at most to rebuild one conversation (a longer chain is refused, never cut).
MAX_CHAIN_DEPTH = 1000


class StoreUnavailable(Exception):
    """The shared store could not be reached or failed (answered as 503)."""


class StoredResponse(msgspec.Struct):
    response: dict[str, Any]  # the Response object as returned
    input_items: list[dict[str, Any]] = []  # this request's input items, with ids
    messages: list[ChatMessage] = []  # this request's input as chat messages (no history)
    session: ToolSession | None = None  # native mode: a tool-output session (sessions.py)

    @property
    def id(self) -> str:
        return str(self.response["id"])

    @property
    def previous_id(self) -> str | None:
        previous = self.response.get("previous_response_id")
        return str(previous) if previous else None


@dataclass
class Chain:
    """The entries of a conversation, oldest first, ending with the one asked for.

    `missing`: the id (the one asked for, or an ancestor) that is not stored for this tenant
    (never stored, deleted, expired or evicted); `too_deep`: the chain is longer than the
    depth asked for. In both cases `entries` is what was found, and is not a conversation.
    """

    entries: list[StoredResponse] = field(default_factory=list)
    missing: str | None = None
    too_deep: bool = False


@dataclass(frozen=True)
class Usage:
    entries: int
    bytes: int


class ResponseStore(Protocol):
    async def get(self, tenant: str, response_id: str) -> StoredResponse | None: ...

    async def put(self, tenant: str, entry: StoredResponse) -> bool:
        """Keep `entry` (replacing one with its id); False if it alone exceeds the byte cap."""
        ...

    async def delete(self, tenant: str, response_id: str) -> bool: ...

    async def chain(self, tenant: str, response_id: str, max_depth: int) -> Chain: ...

    async def usage(self) -> Usage: ...

    async def claim(self, tenant: str, name: str, ttl: float) -> bool:
        """Take a one-time name for `ttl` seconds; False if it is taken (every worker sees
        the same claims: a tool-output submission is taken once)."""
        ...

    async def release(self, tenant: str, name: str) -> None:
        """Give a claimed name back (the work it guarded did not start)."""
        ...

    async def close(self) -> None: ...


def tenant_key(tenant: str) -> str:
    """The store's name for a tenant: a digest, so no tenant id (or key) is ever stored."""
    return hashlib.sha256(tenant.encode()).hexdigest()[:32]


# Eviction reasons, as portico_store_evictions_total labels them.
BY_ENTRIES, BY_BYTES, EXPIRED = "max_entries", "max_bytes", "expired"
