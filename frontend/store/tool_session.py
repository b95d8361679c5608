"""What a stored response keeps to be continued by `POST /v1/responses/{id}/tool_outputs`.

Owns the data only (frontend/sessions.py owns what it means): the create request to run
again, the stream position to continue from, where the latest round's output starts, and
since when the response has been waiting for its tool outputs. Stored inside the entry
(base.py's StoredResponse.session), so any worker that reads the entry can continue it.
"""

from __future__ import annotations

from typing import Any

import msgspec


class ToolSession(msgspec.Struct):
    request: dict[str, Any]  # the create body (without `input`), as JSON, to run again
    sequence: int = 0  # the next stream event's sequence_number
    round_start: int = 0  # index in the response's output where the latest round starts
    rounds: int = 0  # continuations run so far (names the one-time claim of the next)
    waiting_since: float | None = None  # epoch seconds; None: no tool calls are pending
