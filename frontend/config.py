"""Portico's typed configuration: a Sanic Config subclass filled from PORTICO_* variables.

Owns every frontend setting: its name, type, default, command-line flag and environment
variable, in one table (SETTINGS). `portico serve` parses the flags and hands the values to
the frontend as the variables; `sanic frontend.app` reads the same variables. Both validate
a value with the same `Setting.parse`. NOT_BUILT holds the flags users know from vLLM's
Responses server whose feature Portico does not have yet: they are refused by name.
README.md documents the table ("Configuration").
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sanic.config import Config
from sanic.utils import str_to_bool

from .sealing import check_keys
from .tool_shapes import check_policy

ENV_PREFIX = "PORTICO_"


class SettingError(ValueError):
    """A setting's value is invalid; the message is one line that names the setting."""


STORE_URL_SCHEMES = ("redis://", "rediss://", "unix://")


def _check_store_url(text: str) -> None:
    """STORE_URL: empty (in memory) or a Redis URL; the value may hold a password, so the
    message never repeats it."""
    if text and not text.startswith(STORE_URL_SCHEMES):
        raise ValueError("expects a URL that starts with " + ", ".join(STORE_URL_SCHEMES))


@dataclass(frozen=True)
class Setting:
    name: str  # the config key, e.g. SSE_PING_INTERVAL
    type: type  # str, bool, int or float
    default: Any
    flag: str  # the `portico serve` flag
    help: str  # one line: what it does (README's "meaning")
    minimum: float | None = None  # the smallest value allowed, if any
    above_minimum: bool = False  # the value must be strictly greater than `minimum`
    # a str setting's own check: ValueError whose message completes "<flag> ..." (and never
    # quotes the value: a secret's value is never repeated)
    check: Callable[[str], None] | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name

    def parse(self, text: str, source: str | None = None) -> Any:
        """The typed value of `text`, or SettingError naming `source` (default: the flag)."""
        where = source or self.flag
        if self.type is bool:
            try:
                return str_to_bool(text)
            except ValueError:
                raise SettingError(f"{where} expects true or false, not {text!r}") from None
        if self.type is str:
            if self.check is not None:
                try:
                    self.check(text)
                except ValueError as exc:
                    raise SettingError(f"{where} {exc}") from None
            return text
        what = "a whole number" if self.type is int else "a number"
        try:
            value = self.type(text)
        except ValueError:
            raise SettingError(f"{where} expects {what}, not {text!r}") from None
        if not math.isfinite(value):
            raise SettingError(f"{where} expects {what}, not {text!r}")
        if self.minimum is not None and (
            value < self.minimum or (self.above_minimum and value == self.minimum)
        ):
            bound = "greater than" if self.above_minimum else "at least"
            raise SettingError(f"{where} must be {bound} {self.minimum:g}, not {text!r}")
        return value

    def render(self, value: Any) -> str:
        """The environment-variable spelling of a parsed value."""
        if self.type is bool:
            return "true" if value else "false"
        return str(value)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SIDECAR_SOCKET",
        str,
        "/tmp/portico/sidecar.sock",
        "--socket",
        "the sidecar's Unix socket (`portico serve` without it: one in a fresh temporary folder)",
    ),
    Setting(
        "SIDECAR_CONNECT_TIMEOUT",
        float,
        5.0,
        "--sidecar-connect-timeout",
        "seconds to open a socket connection before answering 503",
        minimum=0,
        above_minimum=True,
    ),
    Setting(
        "HEALTH_INTERVAL",
        float,
        5.0,
        "--sidecar-health-interval",
        "seconds between health probes of the sidecar",
        minimum=0,
        above_minimum=True,
    ),
    Setting(
        "SERVED_MODEL_NAME",
        str,
        "",
        "--responses-model-alias",
        "an extra model name the frontend answers to, besides the names the sidecar serves "
        "(those are vLLM's `--served-model-name`, which goes to the sidecar)",
    ),
    Setting(
        "COMPATIBILITY_MODE",
        bool,
        False,
        "--responses-compatibility-mode",
        "only OpenAI's spec: extension fields are refused, no `[DONE]`",
    ),
    Setting(
        "MAX_BODY_BYTES",
        int,
        8 * 1024 * 1024,
        "--max-request-body-bytes",
        "larger request bodies get 413",
        minimum=1,
    ),
    Setting(
        "SSE_PING_INTERVAL",
        float,
        15.0,
        "--responses-ping-interval-seconds",
        "idle seconds before an SSE keep-alive comment",
        minimum=0,
        above_minimum=True,
    ),
    Setting(
        "STORE_MAX_ENTRIES",
        int,
        10_000,
        "--responses-store-max-entries",
        "stored responses kept (the oldest go first)",
        minimum=1,
    ),
    Setting(
        "STORE_MAX_BYTES",
        int,
        1024 * 1024 * 1024,
        "--responses-store-max-bytes",
        "bytes of stored responses kept (the oldest go first)",
        minimum=1,
    ),
    Setting(
        "STORE_TTL",
        float,
        24 * 3600.0,
        "--responses-store-ttl-seconds",
        "seconds a stored response is kept",
        minimum=0,
        above_minimum=True,
    ),
    Setting(
        "STORE_URL",
        str,
        "",
        "--responses-store-url",
        "the shared response store: redis://HOST:PORT/DB or unix:///PATH (`portico serve` "
        "with several workers and no URL: a local redis-server); empty: in memory, one "
        "worker only",
        check=_check_store_url,
    ),
    Setting(
        "GENERATION_TIMEOUT",
        float,
        0.0,
        "--responses-generation-timeout",
        "seconds one generation may run before it fails; 0 = no limit",
        minimum=0,
    ),
    Setting(
        "STREAM_BUFFER_MAX_BYTES",
        int,
        8 * 1024 * 1024,
        "--responses-stream-buffer-max-bytes",
        "bytes of stream events kept per background response for resuming its stream (the "
        "oldest go first; a resume from before them is a 400)",
        minimum=1,
    ),
    Setting(
        "TOOL_TIMEOUT",
        float,
        0.0,
        "--responses-tool-timeout",
        "seconds a response waits for its tool outputs (POST /v1/responses/{id}/tool_outputs) "
        "before it fails with tool_output_timeout; 0 = as long as the store keeps it",
        minimum=0,
    ),
    Setting(
        "REASONING_KEYS",
        str,
        "",
        "--responses-reasoning-keys",
        "comma-separated base64 keys (32 bytes each) that encrypt reasoning for "
        "include=reasoning.encrypted_content: the first encrypts, all decrypt (`portico serve` "
        "without it: one random key per run)",
        check=check_keys,
    ),
    Setting(
        "HOSTED_TOOLS",
        str,
        "omit",
        "--responses-hosted-tools",
        "what hosted tools (web_search, file_search, ...) in a request get: `omit` leaves them "
        "out of the prompt and lists them in the Response's `omitted_tools`; `refuse` answers "
        "400 naming the tool",
        check=check_policy,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
BY_FLAG: dict[str, Setting] = {s.flag: s for s in SETTINGS}

# Flags of vLLM's Responses server (see the migration guide) whose feature is not built yet:
# flag -> the feature. Building one means moving it into SETTINGS.
NOT_BUILT: dict[str, str] = {
    "--responses-default-service-tier": "service tiers",
    "--responses-allowed-service-tiers": "service tiers",
    "--max-stream-event-bytes": "a size cap on one SSE event",
}

# Defaults live here (not as class attributes, which would shadow Sanic's values).
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


def from_environ(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting given as a PORTICO_ variable, typed; SettingError on a bad value."""
    environ = os.environ if environ is None else environ
    return {s.name: s.parse(environ[s.env], s.env) for s in SETTINGS if s.env in environ}


class PorticoConfig(Config):
    """Settings; each can be set as an environment variable with the PORTICO_ prefix."""

    SIDECAR_SOCKET: str  # the sidecar's Unix socket
    SIDECAR_CONNECT_TIMEOUT: float  # seconds to open a socket connection
    HEALTH_INTERVAL: float  # seconds between health probes of the sidecar
    SERVED_MODEL_NAME: str  # an extra name the model answers to
    COMPATIBILITY_MODE: bool  # only what OpenAI's spec defines; no extensions
    MAX_BODY_BYTES: int  # larger request bodies get 413
    SSE_PING_INTERVAL: float  # idle seconds before an SSE keep-alive comment
    STORE_MAX_ENTRIES: int  # stored responses kept (oldest evicted)
    STORE_MAX_BYTES: int  # bytes of stored responses kept (oldest evicted)
    STORE_TTL: float  # seconds a stored response is kept
    STORE_URL: str  # redis:// or unix:// for the shared store; empty: in memory
    GENERATION_TIMEOUT: float  # seconds one generation may run; 0 = no limit
    STREAM_BUFFER_MAX_BYTES: int  # bytes of events kept per background response
    TOOL_TIMEOUT: float  # seconds a response waits for tool outputs; 0 = until the TTL
    HOSTED_TOOLS: str  # hosted tools: "omit" (left out, recorded) or "refuse" (400)
    REASONING_KEYS: str  # base64 keys for encrypted reasoning; the first encrypts

    def __init__(self, **overrides: Any) -> None:
        super().__init__(defaults=DEFAULTS, env_prefix=ENV_PREFIX)
        # Sanic guesses each variable's type from its text ("123" becomes an int even for a
        # name); the table's types win, and a bad value stops the start with one line.
        self.update(from_environ())
        self.update(overrides)
        self.REQUEST_MAX_SIZE = self.MAX_BODY_BYTES
        self.KEEP_ALIVE_TIMEOUT = 75  # behind load balancers that keep connections ~60 s
        self.FALLBACK_ERROR_FORMAT = "json"
        self.NOISY_EXCEPTIONS = False
        self.OAS = False
        # Sanic's RESPONSE_TIMEOUT would answer 503 to a long non-streaming generation: the
        # generation timeout (run.py) is the one limit on a live response, so Sanic's sits
        # beyond it (a day when generations are unlimited).
        limit = float(self.GENERATION_TIMEOUT)
        self.RESPONSE_TIMEOUT = math.ceil(limit) + 60 if limit > 0 else 24 * 3600
