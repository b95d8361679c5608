"""Conformance checks of Portico's wire output against the official OpenAI API spec.

This module owns, for the test suite:

* finding and loading the two spec files in ``shared/spec`` (the official OpenAPI 3.1
  document ``openai-openapi.yaml`` and the derived ``responses-stream-events.json``),
  once per process;
* JSON Schema (Draft 2020-12) validation of any ``#/components/schemas/<name>`` with
  readable failures (``validate`` and the ``validate_*`` shorthands);
* the rules of a Responses event stream that no schema can express
  (``validate_event_sequence``): numbering, first and last events, and the consistency
  of item ids, ``output_index`` and ``content_index`` across events.

Every check raises ``AssertionError`` with the JSON path and the reason, so it reads well
in pytest output.  The spec folder is ``<repo>/../shared/spec`` unless the environment
variable ``PORTICO_SPEC_DIR`` names another.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

__all__ = [
    "CONTENT_EVENT_TYPES",
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

SPEC_DIR_ENV = "PORTICO_SPEC_DIR"
OPENAPI_FILE = "openai-openapi.yaml"
STREAM_EVENTS_FILE = "responses-stream-events.json"

# The URI the whole OpenAPI document is registered under; its internal references
# ("#/components/schemas/X") resolve against it.
_DOC_URI = "urn:portico:openai-openapi"

TERMINAL_EVENT_TYPES = frozenset({"response.completed", "response.incomplete", "response.failed"})
_RESPONSE_EVENT_TYPES = frozenset(
    {"response.created", "response.in_progress", "response.queued", *TERMINAL_EVENT_TYPES}
)
# Events about one content part of a message item, keyed to the part type they belong to.
CONTENT_EVENT_TYPES: Mapping[str, str] = {
    "response.output_text.delta": "output_text",
    "response.output_text.done": "output_text",
    "response.output_text.annotation.added": "output_text",
    "response.refusal.delta": "refusal",
    "response.refusal.done": "refusal",
}
# Content part type -> (text channel, the part's field that holds the text).
_PART_TEXT: Mapping[str, tuple[str, str]] = {
    "output_text": ("text", "text"),
    "refusal": ("refusal", "refusal"),
    "reasoning_text": ("reasoning", "text"),
}
_MAX_REASON = 300
_MAX_ERRORS = 5

_Json = Any  # a decoded JSON value


# --------------------------------------------------------------------------- loading


def spec_dir() -> Path:
    """The folder holding the spec files (``PORTICO_SPEC_DIR`` or ``../shared/spec``)."""
    override = os.environ.get(SPEC_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "spec"


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


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resource = DRAFT202012.create_resource(_document())
    registry: Registry[Any] = Registry().with_resource(_DOC_URI, resource)
    return registry


@lru_cache(maxsize=256)
def _validator(schema_name: str) -> Draft202012Validator:
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


# --------------------------------------------------------------------------- errors


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _branches(error: ValidationError) -> dict[int, list[ValidationError]]:
    groups: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        index = sub.relative_schema_path[0] if sub.relative_schema_path else -1
        groups.setdefault(int(index), []).append(sub)
    return groups


def _is_mismatch(sub: ValidationError, discriminator: str) -> bool:
    """Whether a branch error says the branch is for another kind of value altogether."""
    path = list(sub.relative_path)
    if not path and sub.validator == "type":
        return True
    if not path and sub.validator in ("anyOf", "oneOf") and sub.context:
        inner = _discriminator(sub)
        return all(any(_is_mismatch(s, inner) for s in subs) for subs in _branches(sub).values())
    return path == [discriminator] and sub.validator in ("enum", "const")


def _discriminator(error: ValidationError) -> str:
    """The property that tells a union's variants apart (``type`` unless declared)."""
    here = error.schema if isinstance(error.schema, dict) else {}
    declared = here.get("discriminator")
    if isinstance(declared, dict) and isinstance(declared.get("propertyName"), str):
        return str(declared["propertyName"])
    return "type"


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors worth showing for one failure, descending through ``anyOf``/``oneOf``.

    A union's errors are grouped by branch; branches rejected for being of another JSON
    type, or having another discriminator value (``type`` unless the schema's
    ``discriminator`` names another property), are set aside, and the errors of the best
    remaining branch (the fewest errors) are shown instead of the union's own message.
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    discriminator = _discriminator(error)
    groups = _branches(error)
    candidates = [
        subs for subs in groups.values() if not any(_is_mismatch(s, discriminator) for s in subs)
    ]
    if candidates:
        best = min(candidates, key=len)
        return [leaf for sub in best for leaf in _leaves(sub)]
    return [error]


def _reason(error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        discriminator = _discriminator(error)
        kinds: list[str] = []
        allowed: list[Any] = []
        for sub in error.context:
            at_discriminator = list(sub.relative_path) == [discriminator]
            if sub.validator == "type" and not sub.relative_path:
                value = sub.validator_value
                kinds.extend(map(str, value) if isinstance(value, list) else [str(value)])
            elif (
                at_discriminator
                and sub.validator == "enum"
                and isinstance(sub.validator_value, list)
            ):
                allowed.extend(sub.validator_value)
            elif at_discriminator and sub.validator == "const":
                allowed.append(sub.validator_value)
        if allowed and isinstance(error.instance, dict):
            return (
                f"{discriminator}={_short(error.instance.get(discriminator))} matches no "
                f"variant; allowed: {', '.join(sorted(set(map(str, allowed))))}"[:_MAX_REASON]
            )
        if kinds:
            return f"{_short(error.instance)} is not of type {', '.join(sorted(set(kinds)))}"
        return f"{_short(error.instance)} is not valid under any variant of the union"
    if error.validator == "oneOf":
        return f"{_short(error.instance)} matches more than one variant of a oneOf"
    message = error.message
    return message if len(message) <= _MAX_REASON else message[: _MAX_REASON - 3] + "..."


def _format_errors(errors: Iterable[ValidationError], what: str) -> str | None:
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    total = 0
    for top in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        for leaf in _leaves(top):
            key = (leaf.json_path, _reason(leaf))
            if key in seen:
                continue
            seen.add(key)
            total += 1
            if len(lines) < _MAX_ERRORS:
                lines.append(f"  at {key[0]}: {key[1]}")
    if not lines:
        return None
    more = f"\n  ... and {total - len(lines)} more" if total > len(lines) else ""
    return f"{what} does not conform to the spec:\n" + "\n".join(lines) + more


# --------------------------------------------------------------------------- schemas


def validate(instance: _Json, schema_name: str) -> None:
    """Assert that ``instance`` conforms to ``#/components/schemas/<schema_name>``."""
    problem = _format_errors(_validator(schema_name).iter_errors(instance), schema_name)
    if problem is not None:
        raise AssertionError(problem)


def validate_response(body: _Json) -> None:
    """Assert that ``body`` is a spec ``Response`` (the ``POST /v1/responses`` result)."""
    validate(body, "Response")


def validate_error(body: _Json) -> None:
    """Assert that ``body`` is a spec ``ErrorResponse`` (``{"error": {...}}``)."""
    validate(body, "ErrorResponse")


def validate_models_list(body: _Json) -> None:
    """Assert that ``body`` is a spec ``ListModelsResponse`` (``GET /v1/models``)."""
    validate(body, "ListModelsResponse")


def validate_stream_event(event: Mapping[str, Any]) -> None:
    """Assert that one decoded SSE ``data`` object is a current, valid Responses event.

    Its ``type`` must be a known event type that is not a legacy name, it must carry all
    the fields the spec requires, and it must validate against its own spec schema.  The
    one event the spec file has no schema for (``response.compaction.compacting``, known
    only from the SDK) is checked for the SDK's required fields alone.
    """
    if not isinstance(event, Mapping):
        raise AssertionError(f"a stream event must be a JSON object, not {_short(event)}")
    event_type = event.get("type")
    if not isinstance(event_type, str):
        raise AssertionError(f"stream event without a string 'type': {_short(event)}")
    info = stream_event_info(event_type)
    required = info["required"] if info["required"] is not None else info["sdk_required"]
    missing = [field for field in required if field not in event]
    if missing:
        raise AssertionError(f"{event_type} event lacks required field(s) {missing}")
    if info["spec_schema"] is not None:
        validate(dict(event), info["spec_schema"])


# --------------------------------------------------------------------------- sequences


class _Item:
    """What the stream has said so far about one output item."""

    def __init__(self, item: Mapping[str, Any], output_index: int) -> None:
        self.id: Any = item.get("id")
        self.type: Any = item.get("type")
        self.output_index = output_index
        self.done: Mapping[str, Any] | None = None
        self.parts: dict[int, str] = {}  # content_index -> part type (added)
        self.parts_done: dict[int, Mapping[str, Any]] = {}
        self.text: dict[tuple[str, int], str] = {}  # (channel, content_index) -> text so far
        self.text_done: dict[tuple[str, int], str] = {}
        self.arguments: str = ""
        self.arguments_done: str | None = None


def _fail(index: int, event: Mapping[str, Any], reason: str) -> AssertionError:
    return AssertionError(f"event #{index} ({event.get('type')}): {reason}")


def validate_event_sequence(events: Sequence[Mapping[str, Any]]) -> None:
    """Assert that a whole Responses event stream is valid and self-consistent.

    * every event passes ``validate_stream_event``;
    * ``sequence_number`` is 0, 1, 2, ... in order;
    * the first event is ``response.created``, the second ``response.in_progress``, the last
      one of ``TERMINAL_EVENT_TYPES`` (and no other event is terminal), with a response
      ``status`` matching it; every response-carrying event has the same response ``id``;
    * ``response.output_item.added`` events use ``output_index`` 0, 1, 2, ... and new item
      ids; every event naming an ``item_id``/``output_index`` comes after that item's
      ``added`` and before its ``done`` and agrees on both; each added item has exactly
      one ``response.output_item.done`` with the same id, index and type;
    * a message's parts are announced by ``response.content_part.added`` with
      ``content_index`` 0, 1, ... before any text/refusal event or ``content_part.done``
      for them; each is done once and before its item is done; a ``*.done`` text equals
      the concatenated deltas, the ``content_part.done`` part carries it, and the done
      item's ``content[content_index]`` equals the done part;
    * function call arguments: ``arguments.done`` equals the deltas and the done item's
      ``arguments``; reasoning text: ``reasoning_text.done`` equals its deltas;
    * the final response's ``output`` equals the ``output_item.done`` items in
      ``output_index`` order (for ``response.failed`` an item may be left unfinished).
    """
    if not events:
        raise AssertionError("empty event stream")
    for index, event in enumerate(events):
        try:
            validate_stream_event(event)
        except AssertionError as exc:
            raise AssertionError(f"event #{index}: {exc}") from None
        if event["sequence_number"] != index:
            raise _fail(
                index, event, f"sequence_number is {event['sequence_number']}, expected {index}"
            )
    if events[0]["type"] != "response.created":
        raise _fail(0, events[0], "the first event must be response.created")
    if len(events) < 3:
        raise AssertionError(
            "a stream needs at least response.created, response.in_progress and a terminal event"
        )
    if events[1]["type"] != "response.in_progress":
        raise _fail(1, events[1], "the second event must be response.in_progress")
    last = len(events) - 1
    if events[last]["type"] not in TERMINAL_EVENT_TYPES:
        raise _fail(
            last, events[last], f"the last event must be one of {sorted(TERMINAL_EVENT_TYPES)}"
        )
    _check_responses(events)
    items = _check_items(events)
    _check_final_output(events[last], items)


def _check_responses(events: Sequence[Mapping[str, Any]]) -> None:
    response_id: Any = None
    expected_status = {
        "response.created": ("in_progress", "queued"),
        "response.in_progress": ("in_progress",),
        "response.completed": ("completed",),
        "response.incomplete": ("incomplete",),
        "response.failed": ("failed",),
    }
    last = len(events) - 1
    for index, event in enumerate(events):
        event_type = event["type"]
        if event_type in TERMINAL_EVENT_TYPES and index != last:
            raise _fail(index, event, "a terminal event before the end of the stream")
        if event_type not in _RESPONSE_EVENT_TYPES:
            continue
        response = event["response"]
        if response_id is None:
            response_id = response["id"]
        elif response["id"] != response_id:
            raise _fail(index, event, f"response id {response['id']!r} != {response_id!r}")
        allowed = expected_status.get(event_type)
        if allowed is not None and response.get("status") not in allowed:
            raise _fail(
                index, event, f"response.status is {response.get('status')!r}, expected {allowed}"
            )


def _item_for(
    index: int, event: Mapping[str, Any], items: list[_Item], by_id: dict[Any, _Item]
) -> _Item:
    output_index = event.get("output_index")
    if not isinstance(output_index, int) or not 0 <= output_index < len(items):
        raise _fail(index, event, f"output_index {output_index!r} names no added item")
    item = items[output_index]
    if "item_id" in event and event["item_id"] != item.id:
        raise _fail(
            index,
            event,
            f"item_id {event['item_id']!r} is not the id {item.id!r} of output_index "
            f"{output_index}"
            + (
                f" (that id belongs to output_index {by_id[event['item_id']].output_index})"
                if event["item_id"] in by_id
                else ""
            ),
        )
    if item.done is not None and event["type"] != "response.output_item.done":
        raise _fail(index, event, f"item {item.id!r} is already done")
    return item


def _check_items(events: Sequence[Mapping[str, Any]]) -> list[_Item]:
    items: list[_Item] = []
    by_id: dict[Any, _Item] = {}
    for index, event in enumerate(events):
        event_type = event["type"]
        if event_type == "response.output_item.added":
            if event["output_index"] != len(items):
                raise _fail(
                    index, event, f"output_index {event['output_index']}, expected {len(items)}"
                )
            new = _Item(event["item"], event["output_index"])
            if new.id is None or new.id in by_id:
                raise _fail(index, event, f"item id {new.id!r} is missing or not new")
            items.append(new)
            by_id[new.id] = new
        elif "output_index" in event:
            item = _item_for(index, event, items, by_id)
            _apply(index, event, item)
    return items


def _apply(index: int, event: Mapping[str, Any], item: _Item) -> None:
    event_type = event["type"]
    if event_type == "response.output_item.done":
        _finish_item(index, event, item)
    elif event_type == "response.content_part.added":
        content_index = event["content_index"]
        if content_index != len(item.parts):
            raise _fail(index, event, f"content_index {content_index}, expected {len(item.parts)}")
        part_type = event["part"]["type"]
        owner = "reasoning" if part_type == "reasoning_text" else "message"
        if item.type != owner:
            raise _fail(index, event, f"a {part_type!r} part in a {item.type!r} item")
        item.parts[content_index] = part_type
    elif event_type == "response.content_part.done":
        content_index = event["content_index"]
        part = event["part"]
        _need_part(index, event, item, part["type"])
        if content_index in item.parts_done:
            raise _fail(index, event, f"content part {content_index} is done twice")
        channel, field = _PART_TEXT[part["type"]]
        streamed = item.text_done.get((channel, content_index))
        if streamed is not None and part.get(field) != streamed:
            raise _fail(index, event, f"part.{field} differs from the streamed text")
        item.parts_done[content_index] = part
    elif event_type in CONTENT_EVENT_TYPES:
        part_type = CONTENT_EVENT_TYPES[event_type]
        _need_part(index, event, item, part_type)
        if event["content_index"] in item.parts_done:
            raise _fail(index, event, f"content part {event['content_index']} is already done")
        _stream_text(index, event, item, *_PART_TEXT[part_type])
    elif event_type.startswith("response.function_call_arguments."):
        if item.type != "function_call":
            raise _fail(index, event, f"item {item.id!r} is a {item.type!r}, not a function_call")
        if item.arguments_done is not None:
            raise _fail(index, event, "arguments already done")
        if event_type.endswith(".delta"):
            item.arguments += event["delta"]
        else:
            if item.arguments and event["arguments"] != item.arguments:
                raise _fail(index, event, "arguments differ from the concatenated deltas")
            item.arguments_done = event["arguments"]
    elif event_type.startswith(("response.reasoning_text.", "response.reasoning_summary")):
        if item.type != "reasoning":
            raise _fail(index, event, f"item {item.id!r} is a {item.type!r}, not reasoning")
        if event_type.startswith("response.reasoning_text."):
            _stream_text(index, event, item, *_PART_TEXT["reasoning_text"])


def _need_part(index: int, event: Mapping[str, Any], item: _Item, part_type: str) -> None:
    content_index = event["content_index"]
    if content_index not in item.parts:
        raise _fail(
            index, event, f"content_index {content_index} of item {item.id!r} was never added"
        )
    if item.parts[content_index] != part_type:
        raise _fail(
            index,
            event,
            f"content part {content_index} is {item.parts[content_index]!r}, not {part_type!r}",
        )


def _stream_text(
    index: int, event: Mapping[str, Any], item: _Item, channel: str, field: str
) -> None:
    key = (channel, event["content_index"])
    if key in item.text_done:
        raise _fail(index, event, f"{channel} of content_index {key[1]} is already done")
    if event["type"].endswith(".delta"):
        item.text[key] = item.text.get(key, "") + event["delta"]
        return
    done_text = event[field]
    if key in item.text and item.text[key] != done_text:
        raise _fail(index, event, f"{field} differs from the concatenated deltas")
    item.text_done[key] = done_text


def _finish_item(index: int, event: Mapping[str, Any], item: _Item) -> None:
    if item.done is not None:
        raise _fail(index, event, f"item {item.id!r} is done twice")
    done = event["item"]
    if done.get("id") != item.id or done.get("type") != item.type:
        raise _fail(
            index,
            event,
            f"done item ({done.get('type')!r}, {done.get('id')!r}) is not the added one "
            f"({item.type!r}, {item.id!r})",
        )
    unfinished = sorted(set(item.parts) - set(item.parts_done))
    if unfinished:
        raise _fail(index, event, f"content part(s) {unfinished} were never done")
    content = done.get("content")
    for content_index, part in item.parts_done.items():
        if not isinstance(content, list) or content_index >= len(content):
            raise _fail(index, event, f"item has no content[{content_index}]")
        if content[content_index] != part:
            raise _fail(index, event, f"content[{content_index}] differs from content_part.done")
    if item.parts and isinstance(content, list) and len(content) != len(item.parts):
        raise _fail(
            index, event, f"item has {len(content)} content parts, {len(item.parts)} streamed"
        )
    if (
        item.type == "function_call"
        and item.arguments_done is not None
        and done.get("arguments") != item.arguments_done
    ):
        raise _fail(index, event, "item.arguments differs from function_call_arguments.done")
    if item.type == "reasoning" and isinstance(content, list):
        for (channel, content_index), text in item.text_done.items():
            if channel == "reasoning" and (
                content_index >= len(content) or content[content_index].get("text") != text
            ):
                raise _fail(
                    index, event, f"content[{content_index}].text differs from reasoning_text.done"
                )
    item.done = done


def _check_final_output(final: Mapping[str, Any], items: list[_Item]) -> None:
    index = final["sequence_number"]
    if final["type"] != "response.failed":
        unfinished = [item.id for item in items if item.done is None]
        if unfinished:
            raise _fail(index, final, f"item(s) {unfinished} were added but never done")
    done_items = [item.done for item in items if item.done is not None]
    output = final["response"].get("output")
    if output != done_items:
        raise _fail(
            index,
            final,
            f"response.output ({len(output) if isinstance(output, list) else _short(output)} "
            f"items) differs from the {len(done_items)} output_item.done items in order",
        )
