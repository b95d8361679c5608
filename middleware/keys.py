"""API keys: where they come from, what each one grants, and matching a presented key.

Owns the key ring. Keys come from three places, all optional, all together:

- PORTICO_API_KEYS / `--api-key` (comma-separated; the flag may be repeated): plain keys;
- VLLM_API_KEY (vLLM's own variable, which migrating users already set): one more plain key;
- PORTICO_API_KEY_FILE / `--api-key-file`: a JSON list of objects, each `{"key": ...}` plus
  optional `tenant`, `name`, `models`, `read_only`, `requests_per_minute`,
  `tokens_per_minute`. A key listed there and given as a plain key too takes the file's entry.

No key anywhere: auth is off and every request is ANONYMOUS (tenant "").

A key is never kept, only its SHA-256 digest; a presented key is hashed and compared with
`hmac.compare_digest` against every stored digest, with no early exit. A plain key's tenant
and name are `key_` + the first 16 hex digits of that digest, never the key. Messages about a
bad key or key file name the place (entry, position) and never repeat a key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DERIVED_PREFIX = "key_"  # tenants and names derived from a key; a file's tenant may not use it
MAX_KEY_CHARS = 4096
_KEY = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: what a header carries
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")  # tenants and names
FIELDS = (
    "key",
    "tenant",
    "name",
    "models",
    "read_only",
    "requests_per_minute",
    "tokens_per_minute",
)


@dataclass(frozen=True)
class ApiKey:
    """What one API key grants; `request.ctx.api_key` (never the key itself)."""

    tenant: str  # whose stored state the request sees ("" with auth off)
    name: str  # a safe id for logs and metrics
    models: frozenset[str] | None = None  # the model names it may use; None: all
    read_only: bool = False  # GET routes and POST /v1/responses/input_tokens only
    requests_per_minute: int | None = None  # for the rate-limit layer; None: no limit
    tokens_per_minute: int | None = None


ANONYMOUS = ApiKey(tenant="", name="")  # every request while no key is configured


def digest(key: str) -> bytes:
    # surrogatepass: a header's undecodable bytes arrive as surrogates; never raise on them
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def derived_id(key: str) -> str:
    """The tenant and name of a key that has none of its own: a digest, never the key."""
    return DERIVED_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def plain_keys(text: str) -> list[str]:
    """The keys of a comma-separated list (empty pieces skipped); ValueError naming the
    position of a bad one, completing "<flag> ..."."""
    found = [piece.strip() for piece in text.split(",")]
    found = [key for key in found if key]
    for number, key in enumerate(found, 1):
        _check_key(key, f"holds a bad key (key {number} of {len(found)})")
    return found


def _check_key(key: str, where: str) -> None:
    if len(key) > MAX_KEY_CHARS:
        raise ValueError(f"{where}: longer than {MAX_KEY_CHARS} characters")
    if not _KEY.match(key):
        raise ValueError(f"{where}: only printable ASCII without spaces can be sent in a header")


def check_plain_keys(text: str) -> None:
    """Setting check of PORTICO_API_KEYS."""
    plain_keys(text)


def check_key_file(path: str) -> None:
    """Setting check of PORTICO_API_KEY_FILE: the file reads and every entry is valid."""
    if path:
        read_key_file(path)


def read_key_file(path: str) -> list[tuple[str, ApiKey]]:
    """The (key, grant) pairs of a key file; ValueError in one line, completing "<flag> ...",
    that names the entry and field at fault and never quotes a key."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8"
        raise ValueError(f"{path}: cannot be read ({reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ValueError(f"{path}: not valid JSON ({exc.msg} at {where})") from None
    if not isinstance(data, list):
        raise ValueError(f'{path}: expects a JSON list of objects like {{"key": "..."}}')
    entries: list[tuple[str, ApiKey]] = []
    seen: set[str] = set()
    for number, item in enumerate(data, 1):
        key, grant = _entry(item, f"{path}: entry {number}")
        if key in seen:
            raise ValueError(f"{path}: entry {number}: the same key as an earlier entry")
        seen.add(key)
        entries.append((key, grant))
    return entries


def _entry(item: Any, where: str) -> tuple[str, ApiKey]:
    if not isinstance(item, dict):
        raise ValueError(f'{where}: expects an object like {{"key": "..."}}')
    unknown = sorted(str(name)[:40] for name in item if name not in FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError(f"{where}: 'key' must be a non-empty string")
    _check_key(key, f"{where}: 'key'")
    tenant = _identifier(item, "tenant", where) or derived_id(key)
    if "tenant" in item and tenant.startswith(DERIVED_PREFIX):
        raise ValueError(f"{where}: 'tenant' may not start with {DERIVED_PREFIX!r} (reserved)")
    name = _identifier(item, "name", where) or derived_id(key)
    models = item.get("models")
    if models is not None:
        if not isinstance(models, list) or not models:
            raise ValueError(f"{where}: 'models' must be a non-empty list of model names")
        if not all(isinstance(m, str) and m for m in models):
            raise ValueError(f"{where}: 'models' must be a non-empty list of model names")
        models = frozenset(models)
    read_only = item.get("read_only", False)
    if not isinstance(read_only, bool):
        raise ValueError(f"{where}: 'read_only' must be true or false")
    return key, ApiKey(
        tenant=tenant,
        name=name,
        models=models,
        read_only=read_only,
        requests_per_minute=_limit(item, "requests_per_minute", where),
        tokens_per_minute=_limit(item, "tokens_per_minute", where),
    )


def _identifier(item: dict[str, Any], field: str, where: str) -> str | None:
    value = item.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(
            f"{where}: {field!r} must be 1 to 128 letters, digits or ._:@/- "
            "(starting with a letter or digit)"
        )
    return value


def _limit(item: dict[str, Any], field: str, where: str) -> int | None:
    value = item.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: {field!r} must be a whole number of at least 1, or null")
    return value


class KeyRing:
    """The configured keys, as digests; `match` finds what a presented key grants."""

    def __init__(self, entries: Iterable[tuple[str, ApiKey]]) -> None:
        self._entries = tuple((digest(key), grant) for key, grant in entries)

    def __bool__(self) -> bool:
        """Whether auth is on (at least one key)."""
        return bool(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, presented: str) -> ApiKey | None:
        """The grant of `presented`, or None. Constant time in the key: every stored digest
        is compared, all the way, whether or not an earlier one matched."""
        presented_digest = digest(presented)
        found: ApiKey | None = None
        for stored, grant in self._entries:
            if hmac.compare_digest(presented_digest, stored):
                found = grant
        return found


def load(api_keys: str, key_file: str, vllm_api_key: str = "") -> KeyRing:
    """The ring of every configured key (see the module docstring); ValueError for a bad
    key or key file."""
    described = read_key_file(key_file) if key_file else []
    in_file = {key for key, _ in described}
    plain = plain_keys(api_keys)
    if vllm_api_key.strip():
        _check_key(vllm_api_key.strip(), "VLLM_API_KEY holds a bad key")
        plain.append(vllm_api_key.strip())
    entries = list(described)
    for key in dict.fromkeys(plain):  # in order, once each
        if key not in in_file:
            entries.append((key, ApiKey(tenant=derived_id(key), name=derived_id(key))))
    return KeyRing(entries)
