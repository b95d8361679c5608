"""Portico's native extensions to OpenAI's Responses API, named in one place.

Owns which request fields exist only in native mode (vLLM's sampling extensions): the wire
model (frontend/openai/request.py) declares them, and the compatibility filter
(middleware/compatibility.py) refuses them as unknown parameters when
PORTICO_COMPATIBILITY_MODE is on, as OpenAI would.
"""

from __future__ import annotations

EXTENSION_FIELDS: tuple[str, ...] = (
    "top_k",
    "min_p",
    "repetition_penalty",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "stop",
    "ignore_eos",
    "priority",
    "chat_template_kwargs",
)
