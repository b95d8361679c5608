"""The size cap on one SSE event (PORTICO_MAX_STREAM_EVENT_BYTES): cutting a delta's text.

Owns how a delta too large for one event becomes several: the text is cut on character
boundaries (never inside a UTF-8 sequence, and never inside a JSON escape, since the cut is
made on the decoded text) so that each piece's whole SSE frame (`event:` line, `data:` line,
blank line) fits the cap. The assembler numbers the pieces, so sequence numbers stay
consecutive. Every piece holds at least one character: a cap smaller than an event's fixed
fields cannot be met, and a piece is then as small as it can be.
"""

from __future__ import annotations

from functools import lru_cache

import msgspec

from .events import Event

_encode = msgspec.json.Encoder().encode


def frame_size(event: Event) -> int:
    """The bytes of one event's SSE frame (as sse.encode writes it)."""
    return len(event["type"]) + len(_encode(event)) + len("event: \ndata: \n\n")


@lru_cache(maxsize=4096)
def _char_cost(char: str) -> int:
    """Bytes one character takes inside a JSON string (UTF-8, escapes included)."""
    return len(_encode(char)) - 2


def _cost(char: str) -> int:
    return 1 if " " <= char < "\x7f" and char not in '"\\' else _char_cost(char)


def pieces(text: str, cap: int, first_overhead: int, overhead: int) -> list[str]:
    """`text` cut so each piece's event fits `cap` bytes: the first piece's event has
    `first_overhead` bytes besides its text, the others `overhead`. cap <= 0: no cut."""
    if cap <= 0 or first_overhead + len(text) * 6 <= cap:  # even all-escaped, it fits
        return [text]
    out: list[str] = []
    budget = cap - first_overhead
    start, size = 0, 0
    for index, char in enumerate(text):
        cost = _cost(char)
        if size + cost > budget and index > start:
            out.append(text[start:index])
            start, size, budget = index, 0, cap - overhead
        size += cost
    out.append(text[start:])
    return out
