"""Stored responses: the interface, and its backends (memory now; Redis for many workers)."""

from .base import ResponseStore, StoredResponse
from .memory import MemoryStore

__all__ = ["MemoryStore", "ResponseStore", "StoredResponse"]
