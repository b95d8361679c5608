"""Validating a JSON body into a wire model, with OpenAI-style errors.

Owns turning a decoded JSON body into a wire model, or into one InvalidRequest whose `param`
names the field (`tools[0].name`, `input[2].content`) the way OpenAI reports it. Two passes:

* the JSON values no later layer can carry are refused wherever they sit, even inside
  free-form objects (tool parameters, JSON schemas, `chat_template_kwargs`): NaN and
  Infinity (not JSON; the JSON we answer with could not echo them), integers beyond 64 bits
  (the sidecar protocol's limit), strings that are not Unicode (a lone UTF-16 surrogate
  escape such as ``"\\ud800"``, which UTF-8 cannot encode) and nesting deeper than
  MAX_DEPTH (every layer after this one recurses);
* then the wire model's validation, whose first error becomes the message: missing and
  unknown parameters, wrong JSON types, and invalid values. It is strict, as OpenAI's API
  is: no JSON type stands in for another (`"stream": "true"`, `"temperature": "0.5"`,
  `"max_output_tokens": "16"` or `true` are wrong types), except that an integer is a number
  and a number with no fraction (`16.0`, `1e20`: JSON does not tell them apart) is an
  integer, checked for its 64 bits like any other.
"""

from __future__ import annotations

import copy
import math
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 64  # nested JSON objects and arrays in one body
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
OUT_OF_RANGE = "the integer is out of range (it must fit in 64 bits)"
TOO_DEEP = f"the value is nested more than {MAX_DEPTH} levels deep"

# Pydantic's type errors, as the JSON type that was expected.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}
# The error type a discriminated union raises (request.py) for an item of the wrong JSON type;
# its message is what was expected.
INVALID_TYPE = "invalid_type"


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, as OpenAI's messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def format_param(loc: list[int | str] | tuple[int | str, ...]) -> str:
    """A path into the body as OpenAI writes it: `tools[0].parameters.properties`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def param_path(loc: tuple[int | str, ...], body: Any, *, missing: bool = False) -> str:
    """The path into `body` of a pydantic error location, without pydantic's union labels.

    In a union, pydantic puts the branch's name into the location: a discriminator tag
    (request.py spells them so no JSON key can collide, e.g. "type=function") or a type such
    as "str" or "list[...]". Walking the body tells fields from labels: a part is a field when
    the value there has that key (or index). The last part of a `missing` error is the name
    of the absent field.
    """
    out: list[int | str] = []
    value = body
    for index, part in enumerate(loc):
        if isinstance(part, int):
            found = isinstance(value, list) and 0 <= part < len(value)
        else:
            found = isinstance(value, dict) and part in value
        if found:
            out.append(part)
            value = value[part]
        elif missing and index == len(loc) - 1:
            out.append(part)
    return format_param(out)


class _BadValue(Exception):
    """A JSON value no later layer can carry; `loc` is filled in (innermost first) on the way up."""

    def __init__(self, reason: str, *, key: bool = False, deep: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key  # an object key, not a value: the param is the object holding it
        self.deep = deep  # nested too deeply: the param is the top-level field
        self.loc: list[int | str] = []


def _unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check(value: Any, depth: int) -> None:
    if isinstance(value, str):
        if not _unicode(value):
            raise _BadValue("the string is not valid Unicode (it holds a lone surrogate)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            raise _BadValue(f"{name} is not a JSON number")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise _BadValue(OUT_OF_RANGE)
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise _BadValue(TOO_DEEP, deep=True)
        for key, item in value.items():
            if not isinstance(key, str) or not _unicode(key):
                raise _BadValue("an object key is not valid Unicode", key=True)
            try:
                _check(item, depth + 1)
            except _BadValue as bad:
                bad.loc.append(key)
                raise
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise _BadValue(TOO_DEEP, deep=True)
        for index, item in enumerate(value):
            try:
                _check(item, depth + 1)
            except _BadValue as bad:
                bad.loc.append(index)
                raise


def check_json(body: Any) -> None:
    """Refuse the values no later layer can carry (see the module docstring), naming them."""
    try:
        _check(body, 0)
    except _BadValue as bad:
        loc = bad.loc[::-1]
        param = format_param(loc[:1] if bad.deep else loc) or None
        if param is None:
            message = f"Invalid request body: {bad.reason}."
        elif bad.key:
            message = f"Invalid key in '{param}': {bad.reason}."
        else:
            message = f"Invalid value for '{param}': {bad.reason}."
        raise InvalidRequest(message, param=param, code="invalid_value") from None


def _error(exc: ValidationError, body: Any) -> InvalidRequest:
    errors = exc.errors(include_url=False)
    # In a union, the deepest error is the one that names what the client got wrong.
    first = max(errors, key=lambda e: len(e["loc"]))
    kind = first["type"]
    param = param_path(tuple(first["loc"]), body, missing=kind == "missing") or None
    if kind == "missing":
        return InvalidRequest(
            f"Missing required parameter: '{param}'.",
            param=param,
            code="missing_required_parameter",
        )
    if kind == "extra_forbidden":
        return InvalidRequest(
            f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter"
        )
    if kind == INVALID_TYPE or kind in _EXPECTED:
        # Every branch of a union that failed on the type at the same place says what it wanted.
        expected: list[str] = []
        for error in errors:
            if param_path(tuple(error["loc"]), body) != (param or ""):
                continue
            if error["type"] == INVALID_TYPE:
                wanted = error["msg"]
            elif error["type"] in _EXPECTED:
                wanted = _EXPECTED[error["type"]]
            else:
                continue
            if wanted not in expected:
                expected.append(wanted)
        return InvalidRequest(
            f"Invalid type for '{param}': expected {' or '.join(expected)}, "
            f"but got {json_type(first['input'])} instead.",
            param=param,
            code="invalid_type",
        )
    reason = first["msg"]
    if kind == "int_parsing_size":  # a float such as 1e300 where an integer belongs
        reason = OUT_OF_RANGE
    return InvalidRequest(
        f"Invalid value for '{param}': {reason}.", param=param, code="invalid_value"
    )


def _integral_floats(exc: ValidationError, body: Any) -> Any | None:
    """A copy of `body` with each number without a fraction that stood where an integer
    belongs made that integer; None when the errors hold no such number."""
    fixed: Any = None
    changed = False
    for error in exc.errors(include_url=False):
        value = error["input"]
        if error["type"] != "int_type" or not isinstance(value, float) or not value.is_integer():
            continue
        if fixed is None:
            fixed = copy.deepcopy(body)
        holder, key, found = None, None, fixed
        for part in error["loc"]:  # walk the body, skipping pydantic's union labels
            if isinstance(part, int):
                ok = isinstance(found, list) and 0 <= part < len(found)
            else:
                ok = isinstance(found, dict) and part in found
            if ok:
                holder, key, found = found, part, found[part]
        if holder is not None and isinstance(found, float) and found == value:
            holder[key] = int(value)
            changed = True
    return fixed if changed else None


def parse_body(model: type[M], body: Any) -> M:
    if not isinstance(body, dict):
        got = "null or no body" if body is None else json_type(body)
        raise InvalidRequest(
            f"The request body must be a JSON object, but got {got}.", code="invalid_type"
        )
    check_json(body)
    while True:
        try:
            return model.model_validate(body, strict=True)
        except ValidationError as exc:
            fixed = _integral_floats(exc, body)
            if fixed is None:
                raise _error(exc, body) from None
            check_json(fixed)  # 1e20 is an integer beyond 64 bits
            body = fixed
