"""Validation of one Responses stream event, under OpenAI's spec and Open Responses'.

This module owns ``validate_stream_event`` (both specs) and its two halves:
``validate_openai_stream_event`` (a current event type, its required fields, its own spec
schema) and ``validate_open_responses_stream_event`` (an event type the Open Responses
document defines, and that type's schema).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.spec import open_responses
from tests.spec.bodies import short, validate, validate_open_responses
from tests.spec.documents import stream_event_info
from tests.spec.extension_events import is_extension, validate_extension_event


def validate_stream_event(event: Mapping[str, Any]) -> None:
    """Assert that one decoded SSE ``data`` object is a valid event under both specs.

    ``validate_openai_stream_event``, then ``validate_open_responses_stream_event``; a
    Portico extension event (native mode) is checked by ``validate_extension_event``.
    """
    if is_extension(event):
        validate_extension_event(event)
        return
    validate_openai_stream_event(event)
    validate_open_responses_stream_event(event)


def _event_type(event: Mapping[str, Any]) -> str:
    if not isinstance(event, Mapping):
        raise AssertionError(f"a stream event must be a JSON object, not {short(event)}")
    event_type = event.get("type")
    if not isinstance(event_type, str):
        raise AssertionError(f"stream event without a string 'type': {short(event)}")
    return event_type


def validate_openai_stream_event(event: Mapping[str, Any]) -> None:
    """Assert that one event is a current, valid Responses event under OpenAI's spec.

    Its ``type`` must be a known event type that is not a legacy name, it must carry all
    the fields the spec requires, and it must validate against its own spec schema.  The
    one event the spec file has no schema for (``response.compaction.compacting``, known
    only from the SDK) is checked for the SDK's required fields alone.
    """
    event_type = _event_type(event)
    info = stream_event_info(event_type)
    required = info["required"] if info["required"] is not None else info["sdk_required"]
    missing = [field for field in required if field not in event]
    if missing:
        raise AssertionError(f"{event_type} event lacks required field(s) {missing}")
    if info["spec_schema"] is not None:
        validate(dict(event), info["spec_schema"])


def validate_open_responses_stream_event(event: Mapping[str, Any]) -> None:
    """Assert that one event is valid under the Open Responses spec.

    Its ``type`` must be one the document's ``text/event-stream`` union defines (a smaller
    set than OpenAI's: no hosted-tool events), and it must validate against that schema.
    """
    event_type = _event_type(event)
    schema_name = open_responses.event_schema(event_type)
    if schema_name is None:
        raise AssertionError(
            f"stream event type {event_type!r} is not an Open Responses event; it defines "
            f"{', '.join(open_responses.event_types())}"
        )
    validate_open_responses(dict(event), schema_name)
