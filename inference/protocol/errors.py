"""Error codes carried by ERROR frames, and the exceptions both sides raise for them.

Imports only the standard library.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Why a request failed; the frontend maps each code to an HTTP status in one table."""

    BAD_FRAME = "bad_frame"  # undecodable bytes, unknown kind, oversized frame
    VERSION_MISMATCH = "version_mismatch"
    INVALID_REQUEST = "invalid_request"  # a field the engine rejected (bad sampling value, ...)
    CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"
    UNSUPPORTED = "unsupported"  # a feature this sidecar was not started with
    OVERLOADED = "overloaded"  # the sidecar is stopping
    QUEUE_FULL = "queue_full"  # admission control: capacity and queue are taken (Hello)
    ENGINE_DEAD = "engine_dead"
    INTERNAL = "internal"


class ProtocolError(Exception):
    """A peer broke the framing rules; the connection must be closed."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_FRAME) -> None:
        super().__init__(message)
        self.code = code


class FrameTooLarge(ProtocolError):
    """A frame announced a length above the agreed cap."""


class RequestError(Exception):
    """One request failed (sent as an ERROR frame); the connection itself stays healthy."""

    def __init__(self, code: ErrorCode, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.param = param
