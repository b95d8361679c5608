"""Validation of JSON bodies against spec schemas, with readable failures.

This module owns ``validate`` (any ``#/components/schemas/<name>`` of OpenAI's spec, JSON
Schema Draft 2020-12), ``validate_open_responses`` (the same for the Open Responses spec),
their shorthands for the bodies Portico returns (``validate_response`` and
``validate_error`` check both specs, ``validate_models_list`` OpenAI's alone: Open
Responses has no models route), and the error formatting they share: at most a few
failures, each as ``at <JSON path>: <reason>``, with ``anyOf``/``oneOf`` failures narrowed
to the variant that was meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

from tests.spec import open_responses
from tests.spec.documents import validator

_MAX_REASON = 300
_MAX_ERRORS = 5
OPENAI = "the OpenAI spec"
OPEN_RESPONSES = "the Open Responses spec"

Json = Any  # a decoded JSON value


# --------------------------------------------------------------------------- errors


def short(value: object) -> str:
    """``repr(value)``, cut to 80 characters."""
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
                f"{discriminator}={short(error.instance.get(discriminator))} matches no "
                f"variant; allowed: {', '.join(sorted(set(map(str, allowed))))}"[:_MAX_REASON]
            )
        if kinds:
            return f"{short(error.instance)} is not of type {', '.join(sorted(set(kinds)))}"
        return f"{short(error.instance)} is not valid under any variant of the union"
    if error.validator == "oneOf":
        return f"{short(error.instance)} matches more than one variant of a oneOf"
    message = error.message
    return message if len(message) <= _MAX_REASON else message[: _MAX_REASON - 3] + "..."


def _format_errors(errors: Iterable[ValidationError], what: str, spec_name: str) -> str | None:
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
    return f"{what} does not conform to {spec_name}:\n" + "\n".join(lines) + more


# --------------------------------------------------------------------------- schemas


def _check(errors: Iterable[ValidationError], what: str, spec_name: str) -> None:
    problem = _format_errors(errors, what, spec_name)
    if problem is not None:
        raise AssertionError(problem)


def validate(instance: Json, schema_name: str) -> None:
    """Assert that ``instance`` conforms to OpenAI's ``#/components/schemas/<schema_name>``."""
    _check(validator(schema_name).iter_errors(instance), schema_name, OPENAI)


def validate_open_responses(instance: Json, schema_name: str) -> None:
    """Assert that ``instance`` conforms to Open Responses' ``#/components/schemas/<name>``."""
    errors = open_responses.validator(schema_name).iter_errors(instance)
    _check(errors, schema_name, OPEN_RESPONSES)


def validate_response(body: Json) -> None:
    """Assert that ``body`` is a ``POST /v1/responses`` result under both specs.

    OpenAI's ``Response`` and Open Responses' ``ResponseResource`` (which requires every
    one of its fields, null where not set).
    """
    validate(body, "Response")
    validate_open_responses(body, open_responses.RESPONSE_SCHEMA)


def validate_error(body: Json) -> None:
    """Assert that ``body`` is an error body (``{"error": {...}}``) under both specs.

    OpenAI's ``ErrorResponse``, and for Open Responses ``{"error": <ErrorPayload>}`` (see
    ``open_responses.error_body_validator``).
    """
    validate(body, "ErrorResponse")
    _check(open_responses.error_body_validator().iter_errors(body), "error body", OPEN_RESPONSES)


def validate_models_list(body: Json) -> None:
    """Assert that ``body`` is a spec ``ListModelsResponse`` (``GET /v1/models``)."""
    validate(body, "ListModelsResponse")
