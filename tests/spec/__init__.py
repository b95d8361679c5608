"""Conformance checks of Portico's wire output against the OpenAI and Open Responses specs.

This package owns, for the test suite, the checks that callers reach as
``from tests import spec``; it re-exports them from its modules:

* ``documents``: finding the spec folder, and loading OpenAI's two spec files in
  ``shared/spec`` (the official OpenAPI 3.1 document ``openai-openapi.yaml`` and the
  derived ``responses-stream-events.json``), once per process, as valid JSON Schema;
* ``open_responses``: the same for ``open-responses-openapi.json`` (the vendor-neutral
  Open Responses profile), with its stream-event table;
* ``bodies``: JSON Schema (Draft 2020-12) validation of any
  ``#/components/schemas/<name>`` of either spec with readable failures (``validate``,
  ``validate_open_responses`` and the ``validate_*`` shorthands);
* ``stream_event``: single Responses stream events;
* ``events``: the rules of a whole event stream that no schema can express
  (``validate_event_sequence``): numbering, first and last events, and the consistency of
  item ids, ``output_index`` and ``content_index`` across events.

``validate_response``, ``validate_error``, ``validate_stream_event`` and
``validate_event_sequence`` check both specs; ``validate`` and ``validate_models_list``
check OpenAI's alone (Open Responses defines no models route).

Every check raises ``AssertionError`` with the JSON path and the reason, so it reads well
in pytest output.  The spec folder is ``<repo>/../shared/spec`` unless the environment
variable ``PORTICO_SPEC_DIR`` names another.  The package's own tests are its
``test_*.py`` modules.
"""

from __future__ import annotations

from tests.spec.bodies import (
    validate,
    validate_error,
    validate_models_list,
    validate_open_responses,
    validate_response,
)
from tests.spec.documents import (
    OPENAPI_FILE,
    SPEC_DIR_ENV,
    legacy_event_names,
    schema,
    spec_dir,
    stream_event_info,
)
from tests.spec.events import CONTENT_EVENT_TYPES, TERMINAL_EVENT_TYPES, validate_event_sequence
from tests.spec.open_responses import OPEN_RESPONSES_FILE
from tests.spec.open_responses import schema as open_responses_schema
from tests.spec.stream_event import (
    validate_open_responses_stream_event,
    validate_openai_stream_event,
    validate_stream_event,
)

__all__ = [
    "CONTENT_EVENT_TYPES",
    "OPENAPI_FILE",
    "OPEN_RESPONSES_FILE",
    "SPEC_DIR_ENV",
    "TERMINAL_EVENT_TYPES",
    "legacy_event_names",
    "open_responses_schema",
    "schema",
    "spec_dir",
    "stream_event_info",
    "validate",
    "validate_error",
    "validate_event_sequence",
    "validate_models_list",
    "validate_open_responses",
    "validate_open_responses_stream_event",
    "validate_openai_stream_event",
    "validate_response",
    "validate_stream_event",
]
