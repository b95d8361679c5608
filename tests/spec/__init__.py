"""Conformance checks of Portico's wire output against the official OpenAI API spec.

This package owns, for the test suite, the checks that callers reach as
``from tests import spec``; it re-exports them from its modules:

* ``documents``: finding and loading the two spec files in ``shared/spec`` (the official
  OpenAPI 3.1 document ``openai-openapi.yaml`` and the derived
  ``responses-stream-events.json``), once per process, and making them valid JSON Schema;
* ``bodies``: JSON Schema (Draft 2020-12) validation of any
  ``#/components/schemas/<name>`` with readable failures (``validate`` and the
  ``validate_*`` shorthands);
* ``events``: single Responses stream events, and the rules of a whole event stream that
  no schema can express (``validate_event_sequence``): numbering, first and last events,
  and the consistency of item ids, ``output_index`` and ``content_index`` across events.

Every check raises ``AssertionError`` with the JSON path and the reason, so it reads well
in pytest output.  The spec folder is ``<repo>/../shared/spec`` unless the environment
variable ``PORTICO_SPEC_DIR`` names another.  The package's own tests are its
``test_*.py`` modules.
"""

from __future__ import annotations

from tests.spec.bodies import validate, validate_error, validate_models_list, validate_response
from tests.spec.documents import (
    OPENAPI_FILE,
    SPEC_DIR_ENV,
    legacy_event_names,
    schema,
    spec_dir,
    stream_event_info,
)
from tests.spec.events import (
    CONTENT_EVENT_TYPES,
    TERMINAL_EVENT_TYPES,
    validate_event_sequence,
    validate_stream_event,
)

__all__ = [
    "CONTENT_EVENT_TYPES",
    "OPENAPI_FILE",
    "SPEC_DIR_ENV",
    "TERMINAL_EVENT_TYPES",
    "legacy_event_names",
    "schema",
    "spec_dir",
    "stream_event_info",
    "validate",
    "validate_error",
    "validate_event_sequence",
    "validate_models_list",
    "validate_response",
    "validate_stream_event",
]
