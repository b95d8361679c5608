"""Stored responses: the interface (base.py), its two backends, and `open_store`, which picks one.

PORTICO_STORE_URL (`--responses-store-url`) empty: in memory (memory.py, one worker);
redis://… or unix://…: Redis (redis.py), shared by every worker and replica.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import MAX_CHAIN_DEPTH, Chain, ResponseStore, StoredResponse, StoreUnavailable, Usage
from .memory import MemoryStore

if TYPE_CHECKING:
    from ..config import PorticoConfig


def open_store(config: PorticoConfig) -> ResponseStore:
    """The store the settings name: STORE_URL, and the caps."""
    entries, size, ttl = config.STORE_MAX_ENTRIES, config.STORE_MAX_BYTES, config.STORE_TTL
    if not config.STORE_URL:
        return MemoryStore(max_entries=entries, max_bytes=size, ttl=ttl)
    from .redis import RedisStore  # redis-py is imported only when it is used

    return RedisStore(config.STORE_URL, max_entries=entries, max_bytes=size, ttl=ttl)


__all__ = [
    "MAX_CHAIN_DEPTH",
    "Chain",
    "MemoryStore",
    "ResponseStore",
    "StoreUnavailable",
    "StoredResponse",
    "Usage",
    "open_store",
]
