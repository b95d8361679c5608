"""The Open Responses spec file, loaded once per process and made ready to validate with.

This module owns, for ``open-responses-openapi.json`` (the vendor-neutral Open Responses
profile of the Responses API, in the same spec folder as OpenAI's files):

* loading it, and the documented workarounds for its schemas that can never validate
  together with OpenAI's spec as written;
* the ``referencing`` registry and the cached per-schema validators built on it;
* lookups: a copy of one component schema, and the table from a stream event's ``type``
  to the schema the document gives it (read from the document's own ``text/event-stream``
  union of ``POST /responses``, so no event name is hard-coded here).

The document is plain JSON Schema 2020-12 already (no ``nullable``, no
``$recursiveRef``), so unlike ``documents`` it needs no OpenAPI rewrite.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.spec.documents import spec_dir

OPEN_RESPONSES_FILE = "open-responses-openapi.json"
RESPONSE_SCHEMA = "ResponseResource"
ERROR_PAYLOAD_SCHEMA = "ErrorPayload"

_DOC_URI = "urn:portico:open-responses-openapi"
_STREAM_PATH = ("paths", "/responses", "post", "responses", "200", "content", "text/event-stream")


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    path = spec_dir() / OPEN_RESPONSES_FILE
    with path.open(encoding="utf-8") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict) or "components" not in doc:
        raise RuntimeError(f"{path} is not an OpenAPI document")
    _work_around_spec_defects(doc["components"]["schemas"])
    return doc


# Open Responses' reasoning-text event schemas, and the names OpenAI retired that they use.
_REASONING_EVENT_SCHEMAS = (
    "ResponseReasoningDeltaStreamingEvent",
    "ResponseReasoningDoneStreamingEvent",
)
_RETIRED_NAMES = {
    "response.reasoning.delta": "response.reasoning_text.delta",
    "response.reasoning.done": "response.reasoning_text.done",
}


def _work_around_spec_defects(schemas: dict[str, Any]) -> None:
    """Narrow fixes for schemas of the file that can never validate as written.

    * ``JsonSchemaResponseFormat.schema`` is ``anyOf: [{type: null}]``: the echoed
      ``text.format`` of a ``json_schema`` request could never carry its schema, which
      OpenAI's ``TextResponseFormatJsonSchema`` requires as an object (the TypeSpec source
      says ``schema: null`` where the request side says ``Record<unknown>``).  Upstream's
      later ``schema/components/schemas/JsonSchemaResponseFormat.json`` (repository
      ``openresponses/openresponses``, commit ``ebf2ab1``) states what was meant, an
      object or null, and that is what it becomes here.
    * ``ResponseReasoningDeltaStreamingEvent`` / ``ResponseReasoningDoneStreamingEvent``
      have ``type`` ``response.reasoning.delta`` / ``.done``: the names OpenAI retired
      (``responses-stream-events.json`` lists them as legacy names of
      ``response.reasoning_text.delta`` / ``.done``, which OpenAI's check requires).  One
      event cannot carry both names, and the fields are the same, so the current OpenAI
      names are used; upstream renamed them the same way later (the same repository,
      ``schema/components/schemas/ResponseReasoningDeltaStreamingEvent.json``, commit
      ``cb2b1f8``).
    """
    fmt = schemas.get("JsonSchemaResponseFormat", {}).get("properties", {})
    if fmt.get("schema") == {"anyOf": [{"type": "null"}]}:
        fmt["schema"] = {"anyOf": [{"type": "object"}, {"type": "null"}]}
    for name in _REASONING_EVENT_SCHEMAS:
        kind = schemas.get(name, {}).get("properties", {}).get("type", {})
        enum = kind.get("enum")
        if isinstance(enum, list) and len(enum) == 1 and enum[0] in _RETIRED_NAMES:
            kind["enum"] = [_RETIRED_NAMES[enum[0]]]
            kind["default"] = kind["enum"][0]


# --------------------------------------------------------------------------- validators


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resource = DRAFT202012.create_resource(_document())
    registry: Registry[Any] = Registry().with_resource(_DOC_URI, resource)
    return registry


def _ref(schema_name: str) -> dict[str, str]:
    if schema_name not in _document()["components"]["schemas"]:
        raise KeyError(f"no schema #/components/schemas/{schema_name} in {OPEN_RESPONSES_FILE}")
    return {"$ref": f"{_DOC_URI}#/components/schemas/{schema_name}"}


@lru_cache(maxsize=64)
def validator(schema_name: str) -> Draft202012Validator:
    """The (cached) validator of the document's ``#/components/schemas/<schema_name>``."""
    return Draft202012Validator(_ref(schema_name), registry=_registry())


@lru_cache(maxsize=1)
def error_body_validator() -> Draft202012Validator:
    """The validator of an HTTP error body: ``{"error": <ErrorPayload>}``.

    The document gives ``POST /responses`` no error response, but its specification's
    "Errors" section shows the body as ``{"error": {"message", "type", "param", "code"}}``,
    which is the document's ``ErrorPayload`` (the ``error`` of a stream ``error`` event).
    """
    wrapper = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": _ref(ERROR_PAYLOAD_SCHEMA)},
    }
    return Draft202012Validator(wrapper, registry=_registry())


def schema(name: str) -> dict[str, Any]:
    """A copy of the document's ``#/components/schemas/<name>`` (workarounds applied)."""
    _ref(name)
    found: dict[str, Any] = copy.deepcopy(_document()["components"]["schemas"][name])
    return found


# --------------------------------------------------------------------------- stream events


@lru_cache(maxsize=1)
def _event_schemas() -> dict[str, str]:
    node: Any = _document()
    for key in _STREAM_PATH:
        node = node[key]
    table: dict[str, str] = {}
    for member in node["schema"]["oneOf"]:
        name = member["$ref"].rsplit("/", 1)[-1]
        for event_type in _document()["components"]["schemas"][name]["properties"]["type"]["enum"]:
            table[event_type] = name
    return table


def event_schema(event_type: str) -> str | None:
    """The name of the schema the document gives stream events of ``event_type``, if any."""
    return _event_schemas().get(event_type)


def event_types() -> list[str]:
    """Every stream event type the document defines, sorted."""
    return sorted(_event_schemas())
