"""Strict checks of what the official `openai` SDK makes of Portico's answers.

The SDK builds its typed objects leniently: a field its models do not declare lands in
`model_extra`, and an object whose `type` it does not know becomes the first class of the
union it expected (an unknown stream event becomes a `ResponseAudioDeltaEvent`). Neither
raises, so a test that only reads a few attributes would not notice. `check_typed` walks an
SDK object and fails on:

* an object whose class does not own its `type` (a fallback class, a wrong item or part);
* a field the SDK's class does not declare, unless OpenAI's spec declares it on that schema
  (this SDK version leaves `name` off `response.function_call_arguments.done`, which the spec
  has) or OpenAI's own answers carry it (`store`, `presence_penalty`, `frequency_penalty` on
  a Response: in every example Response of the spec, though its schema leaves them out);
* a dump (by the wire's names) that does not round-trip through the same class, nor its
  JSON (for the SDK's wire types; its stream helper's own event classes are left out).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Literal, get_args, get_origin

from openai import BaseModel

from tests import spec

# SDK class -> the spec schema its objects are, where the names differ
_SPEC_NAMES = {
    "ParsedResponse": "Response",
    "ParsedResponseOutputMessage": "OutputMessage",
    "ParsedResponseOutputText": "OutputTextContent",
    "ParsedResponseFunctionToolCall": "FunctionToolCall",
    "ResponseOutputMessage": "OutputMessage",
    "ResponseOutputText": "OutputTextContent",
    "ResponseFunctionToolCall": "FunctionToolCall",
    "ResponseFunctionToolCallItem": "FunctionToolCallResource",
    "ResponseFunctionToolCallOutputItem": "FunctionToolCallOutputResource",
    "ResponseInputMessageItem": "InputMessageResource",
    "ResponseReasoningItem": "ReasoningItem",
    "SyncCursorPage": "ResponseItemList",
    "AsyncCursorPage": "ResponseItemList",
}

# fields OpenAI's own answers carry beyond the schema (the spec's example Responses show them)
_OPENAI_SENDS = {"Response": frozenset({"store", "presence_penalty", "frequency_penalty"})}


def _collect(node: Any, seen: set[str], out: set[str]) -> None:
    if not isinstance(node, dict):
        return
    out.update(node.get("properties", {}))
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _collect(spec.schema(name), seen, out)
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(key, []):
            _collect(branch, seen, out)


@cache
def spec_properties(schema_name: str) -> frozenset[str]:
    """Every property OpenAI's spec declares on a schema (through allOf, anyOf and $ref)."""
    out: set[str] = set()
    _collect(spec.schema(schema_name), {schema_name}, out)
    return frozenset(out)


def _schema_name(model: BaseModel) -> str:
    name = type(model).__name__.split("[", 1)[0]
    return _SPEC_NAMES.get(name, name)


def _declared_types(model: BaseModel) -> tuple[str, ...]:
    """The `type` values the model's class accepts (empty when it has no literal `type`)."""
    field = type(model).model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return ()
    return tuple(str(value) for value in get_args(field.annotation))


def problems(value: Any, path: str = "$") -> list[str]:
    """What is wrong with an SDK object's typing, one line per finding (empty when strict)."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        kind = getattr(value, "type", None)
        declared = _declared_types(value)
        if isinstance(kind, str) and declared and kind not in declared:
            found.append(f"{path}: type {kind!r} parsed as {type(value).__name__}")
        extra = set(value.model_extra or {})
        if extra:
            name = _schema_name(value)
            try:
                allowed = spec_properties(name)
            except KeyError:
                allowed = frozenset()
            allowed |= _OPENAI_SENDS.get(name, frozenset())
            if extra - allowed:
                found.append(f"{path}: {type(value).__name__} got {sorted(extra - allowed)}")
        for field in type(value).model_fields:
            found += problems(getattr(value, field), f"{path}.{field}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += problems(item, f"{path}[{index}]")
    return found


def check_typed(value: BaseModel) -> None:
    """`value` is typed strictly (see the module's docstring) and its dump round-trips."""
    assert problems(value) == []
    cls = type(value)
    if not cls.__module__.startswith("openai.types."):
        return  # built by the SDK's stream helper (openai.lib), not parsed from the wire
    dumped = value.model_dump(by_alias=True)  # the wire's names (`schema`, not `schema_`)
    assert cls.model_validate(dumped).model_dump(by_alias=True) == dumped
    again = cls.model_validate_json(value.model_dump_json(by_alias=True))
    assert again.model_dump(by_alias=True) == dumped


def check_events(events: Iterable[BaseModel]) -> list[str]:
    """Every event checked by `check_typed`; their types, in order."""
    kinds = []
    for event in events:
        check_typed(event)
        kinds.append(str(getattr(event, "type", "")))
    return kinds
