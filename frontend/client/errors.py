"""The transport's own failure: the sidecar could not be reached, or broke the protocol.

The sidecar's refusals of one request arrive as `inference.protocol.RequestError`; this is
everything else that can go wrong between the frontend and the sidecar. frontend/errors.py
maps both to HTTP in its one table.
"""

from __future__ import annotations


class SidecarUnavailable(Exception):
    """The socket could not be opened, closed early, or carried something unexpected."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"The inference sidecar is not reachable; retry shortly. ({detail})")
        self.detail = detail
