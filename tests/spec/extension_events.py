"""Portico's native extension events (frontend/extensions.py) in a Responses event stream.

This module owns, for the test suite, the shape of each extension event and where it may
stand: ``validate_extension_event`` checks one, and ``standard_events`` checks every
extension event of a stream (and each legacy-name alias) and returns OpenAI's events alone,
which the spec validators then check as they would a compatibility-mode stream. Every
extension event repeats the ``sequence_number`` of the standard event before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from frontend.extensions import EXTENSION_EVENTS, LEGACY_NAMES

_FIELDS: Mapping[str, Mapping[str, type | tuple[type, ...]]] = {
    "response.ping": {},
    "response.rate_limits.updated": {"rate_limits": list},
    "response.additional_context": {"context": dict},
    "response.tool_call.delta": {
        "item_id": str,
        "output_index": int,
        "call_id": str,
        "name": str,
        "delta": str,
    },
    "response.error": {"error": dict},
}
_LIMIT_FIELDS = {"name": str, "limit": int, "remaining": int, "reset_seconds": (int, float)}
_ERROR_FIELDS = {"type": str, "code": (str, type(None)), "message": str, "param": (str, type(None))}
LEGACY_ALIASES = frozenset(LEGACY_NAMES.values())


def is_extension(event: Mapping[str, Any]) -> bool:
    return event.get("type") in EXTENSION_EVENTS


def _fields(event: Mapping[str, Any], fields: Mapping[str, Any], where: str) -> None:
    for name, kind in fields.items():
        if not isinstance(event.get(name), kind) or isinstance(event.get(name), bool):
            raise AssertionError(f"{where}: field {name!r} is {event.get(name)!r}")


def validate_extension_event(event: Mapping[str, Any]) -> None:
    """Assert that one event is a well-formed Portico extension event."""
    kind = str(event.get("type"))
    if kind not in _FIELDS:
        raise AssertionError(f"{kind!r} is not a Portico extension event")
    seq = event.get("sequence_number")
    if not isinstance(seq, int) or seq < 0:
        raise AssertionError(f"{kind}: sequence_number is {seq!r}")
    allowed = {"type", "sequence_number", *_FIELDS[kind]}
    if set(event) != allowed:
        raise AssertionError(f"{kind}: fields {sorted(event)}, expected {sorted(allowed)}")
    _fields(event, _FIELDS[kind], kind)
    for limit in event.get("rate_limits", []):
        _fields(limit, _LIMIT_FIELDS, "rate limit")
    if kind == "response.error":
        _fields(event["error"], _ERROR_FIELDS, "response.error's error")
    if kind == "response.additional_context":
        tools = event["context"].get("omitted_tools")
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise AssertionError(f"{kind}: context {event['context']!r}")


def standard_events(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """OpenAI's events of a stream, once every extension event (and legacy alias) in it is
    checked: well-formed, numbered as the standard event before it, and an alias right after
    the event it repeats. A ping may come before any event (numbered 0)."""
    out: list[Mapping[str, Any]] = []
    for index, event in enumerate(events):
        kind = event.get("type")
        if kind in LEGACY_ALIASES:
            before = events[index - 1] if index else {}
            if LEGACY_NAMES.get(str(before.get("type"))) != kind or dict(before, type=kind) != dict(
                event
            ):
                raise AssertionError(
                    f"event #{index}: alias {kind} does not repeat the event before"
                )
            continue
        if not is_extension(event):
            out.append(event)
            continue
        validate_extension_event(event)
        expected = out[-1].get("sequence_number") if out else 0
        if event["sequence_number"] != expected:
            raise AssertionError(
                f"event #{index} ({kind}): sequence_number {event['sequence_number']}, "
                f"expected {expected} (the standard event's before it)"
            )
    return out
