"""Request fields that OpenAI's API accepts and real agent clients send, but that the spec
file Portico's wire models follow does not list yet (the spec lags the API).

Owns that short list: each field, its shape, and what Portico does with it (CLIENT_FIELDS,
documented in docs/clients/). CreateResponse inherits ClientFields, so these fields are
accepted; any other unknown field is still OpenAI's 400 "Unknown parameter". Add a field
here only when a real client is seen sending it and OpenAI's API accepts it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# field -> (who sends it, what Portico does with it)
CLIENT_FIELDS: dict[str, tuple[str, str]] = {
    "client_metadata": (
        "Codex CLI (installation, thread, turn and window ids)",
        "accepted and ignored: it only labels the request for the client's own telemetry; "
        "it is neither echoed in the Response nor stored",
    ),
}


class ClientFields(BaseModel):
    """The fields of CLIENT_FIELDS, as CreateResponse accepts them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    client_metadata: dict[str, Any] | None = None
