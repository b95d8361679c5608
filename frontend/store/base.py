"""The response store interface: what a backend must do, and what one entry holds.

Owns the contract every backend keeps: entries are keyed by tenant and id (one API key never
sees another's), every backend has a size cap and a TTL.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from inference.protocol import ChatMessage


class StoredResponse(msgspec.Struct):
    response: dict[str, Any]  # the Response object as returned
    conversation: list[ChatMessage]  # history + input + output, for previous_response_id


class ResponseStore(Protocol):
    async def get(self, tenant: str, response_id: str) -> StoredResponse | None: ...

    async def put(self, tenant: str, entry: StoredResponse) -> None: ...

    async def delete(self, tenant: str, response_id: str) -> bool: ...

    async def close(self) -> None: ...
