"""The two OpenAI spec files, found, loaded once per process and made ready to validate with.

This module owns:

* finding the spec folder (``<repo>/../shared/spec`` unless ``PORTICO_SPEC_DIR`` names
  another) and loading the official OpenAPI 3.1 document ``openai-openapi.yaml`` and the
  derived ``responses-stream-events.json``;
* rewriting the OpenAPI-only constructs of the document into plain JSON Schema 2020-12,
  and the documented workarounds for spec schemas that can never validate as written;
* the ``referencing`` registry and the cached per-schema validators built on it;
* lookups: a copy of one component schema, the stream-event table and legacy names.
"""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_DIR_ENV = "PORTICO_SPEC_DIR"
OPENAPI_FILE = "openai-openapi.yaml"
STREAM_EVENTS_FILE = "responses-stream-events.json"

# The URI the whole OpenAPI document is registered under; its internal references
# ("#/components/schemas/X") resolve against it.
_DOC_URI = "urn:portico:openai-openapi"


# --------------------------------------------------------------------------- loading


def spec_dir() -> Path:
    """The folder holding the spec files (``PORTICO_SPEC_DIR`` or ``../shared/spec``)."""
    override = os.environ.get(SPEC_DIR_ENV)
    if override:
        return Path(override)
    # tests/spec/documents.py -> tests/spec -> tests -> <repo> -> the repo's parent
    return Path(__file__).resolve().parents[3] / "shared" / "spec"


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    """The OpenAPI document, loaded once and rewritten into plain JSON Schema 2020-12."""
    path = spec_dir() / OPENAPI_FILE
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=loader)
    if not isinstance(doc, dict) or "components" not in doc:
        raise RuntimeError(f"{path} is not an OpenAPI document")
    schemas: dict[str, Any] = doc["components"]["schemas"]
    for name, sub in schemas.items():
        _to_json_schema(
            sub, name if isinstance(sub, dict) and sub.get("$recursiveAnchor") else None
        )
    _work_around_spec_defects(schemas)
    return doc


# --------------------------------------------------------------------------- OpenAPI -> JSON Schema


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def _to_json_schema(node: Any, recursive_owner: str | None) -> None:
    """Rewrite, in place, the OpenAPI-only constructs of one schema into JSON Schema.

    * ``nullable: true`` (OpenAPI 3.0; the 3.1 file mostly says ``anyOf: [..., {type:
      'null'}]`` instead, and none of the Responses schemas use it) becomes a ``null``
      type, a ``None`` enum member, or an ``anyOf`` with ``{type: 'null'}``.
    * ``$recursiveRef: '#'`` (Draft 2019-09, unknown to 2020-12, where it would be
      silently ignored and match anything) becomes a ``$ref`` to the component that
      declares ``$recursiveAnchor``.  Used by ``CompoundFilter`` (file_search filters):
      ignored, every ``ComparisonFilter`` in ``filters`` would match both ``oneOf``
      branches and always fail.

    ``discriminator``, ``x-*``, ``example`` and ``deprecated`` are annotations that the
    validator ignores; ``discriminator`` is used only to pick the readable error.
    """
    if not isinstance(node, dict):
        return
    if "nullable" in node:
        nullable = node.pop("nullable")
        if nullable is True:
            _make_nullable(node)
    if recursive_owner is not None and node.get("$recursiveRef") == "#":
        del node["$recursiveRef"]
        node["$ref"] = f"#/components/schemas/{recursive_owner}"
    node.pop("$recursiveAnchor", None)
    for key in _SCHEMA_MAPS:
        sub_map = node.get(key)
        if isinstance(sub_map, dict):
            for sub in sub_map.values():
                _to_json_schema(sub, recursive_owner)
    for key in _SCHEMA_ONE:
        if key in node:
            _to_json_schema(node[key], recursive_owner)
    for key in _SCHEMA_LISTS:
        sub_list = node.get(key)
        if isinstance(sub_list, list):
            for sub in sub_list:
                _to_json_schema(sub, recursive_owner)


def _make_nullable(node: dict[str, Any]) -> None:
    kind = node.get("type")
    if isinstance(kind, str) and not set(node) & {"$ref", "allOf", "anyOf", "oneOf"}:
        node["type"] = [kind, "null"]
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        return
    if isinstance(kind, list):
        if "null" not in kind:
            kind.append("null")
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        return
    inner = {k: node.pop(k) for k in list(node) if k not in ("description", "title", "default")}
    node["anyOf"] = [inner, {"type": "null"}]


def _work_around_spec_defects(schemas: dict[str, Any]) -> None:
    """Narrow fixes for schemas of the spec file that can never validate as written.

    ``InputItem`` is a ``oneOf`` of ``EasyInputMessage`` and ``Item`` (among others), and
    ``Item`` contains ``InputMessage``.  A message such as ``{"type": "message", "role":
    "user", "content": [{"type": "input_text", "text": "hi"}]}`` conforms to both
    ``EasyInputMessage`` and ``InputMessage``, so the ``oneOf`` rejects the most common
    input item there is (the spec means a discriminated union, which the validator does
    not implement).  ``anyOf`` states what was meant.  It matters for ``CreateResponse``
    and for ``Response.instructions`` given as a list of items.
    """
    input_item = schemas.get("InputItem")
    if isinstance(input_item, dict) and "oneOf" in input_item:
        input_item["anyOf"] = input_item.pop("oneOf")


# --------------------------------------------------------------------------- registry


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resource = DRAFT202012.create_resource(_document())
    registry: Registry[Any] = Registry().with_resource(_DOC_URI, resource)
    return registry


@lru_cache(maxsize=256)
def validator(schema_name: str) -> Draft202012Validator:
    """The (cached) validator of ``#/components/schemas/<schema_name>``."""
    if schema_name not in _document()["components"]["schemas"]:
        raise KeyError(f"no schema #/components/schemas/{schema_name} in {OPENAPI_FILE}")
    ref = {"$ref": f"{_DOC_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(ref, registry=_registry())


def schema(name: str) -> dict[str, Any]:
    """A copy of ``#/components/schemas/<name>`` (its ``$ref``s left as they are)."""
    schemas = _document()["components"]["schemas"]
    if name not in schemas:
        raise KeyError(f"no schema #/components/schemas/{name} in {OPENAPI_FILE}")
    found: dict[str, Any] = copy.deepcopy(schemas[name])
    return found


# --------------------------------------------------------------------------- stream event table


@lru_cache(maxsize=1)
def _stream_events_file() -> dict[str, Any]:
    with (spec_dir() / STREAM_EVENTS_FILE).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@lru_cache(maxsize=1)
def _stream_events() -> dict[str, dict[str, Any]]:
    return {event["type"]: event for event in _stream_events_file()["events"]}


def legacy_event_names() -> dict[str, str]:
    """Retired streaming event names, each mapped to the name that replaced it."""
    return {entry["type"]: entry["current"] for entry in _stream_events_file()["legacy_names"]}


def stream_event_info(event_type: str) -> dict[str, Any]:
    """The ``responses-stream-events.json`` entry of a current event type.

    Raises ``AssertionError`` for a legacy name (saying what replaced it) or an unknown one.
    """
    events = _stream_events()
    if event_type in events:
        return events[event_type]
    legacy = legacy_event_names()
    if event_type in legacy:
        raise AssertionError(
            f"stream event type {event_type!r} is a legacy name; the current one is "
            f"{legacy[event_type]!r}"
        )
    raise AssertionError(f"unknown stream event type {event_type!r}")
