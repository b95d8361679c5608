"""Portico's typed configuration: a Sanic Config subclass filled from PORTICO_* variables.

Owns every frontend setting: its name, type, default, command-line flag and environment
variable, in one table (SETTINGS) of `Setting`s (frontend/setting.py). `portico serve`
parses the flags and hands the values to the frontend as the variables; `sanic
frontend.app` reads the same variables. Both validate a value with the same
`Setting.parse`. NOT_BUILT holds the flags users know from vLLM's Responses server whose
feature Portico does not have yet: they are refused by name. README.md documents the table
("Configuration").
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from sanic.config import Config

from .azure import (
    DEFAULT_API_VERSIONS,
    check_deployments,
    check_header_value,
    check_versions,
)
from .log_format import check_log_format
from .sealing import check_keys
from .service_tiers import SERVICE_TIERS, TierPolicy, check_tier, check_tiers
from .setting import ENV_PREFIX, Setting, SettingError
from .tool_shapes import check_policy

__all__ = ["BY_FLAG", "BY_NAME", "DEFAULTS", "NOT_BUILT", "SETTINGS", "PorticoConfig"]
__all__ += ["Setting", "SettingError", "check_together", "from_environ"]

STORE_URL_SCHEMES = ("redis://", "rediss://", "unix://")


def _check_store_url(text: str) -> None:
    """STORE_URL: empty (in memory) or a Redis URL; the value may hold a password, so the
    message never repeats it."""
    if text and not text.startswith(STORE_URL_SCHEMES):
        raise ValueError("expects a URL that starts with " + ", ".join(STORE_URL_SCHEMES))


def _check_api_keys(text: str) -> None:
    from middleware.keys import check_plain_keys  # at call time: middleware imports frontend

    check_plain_keys(text)


def _check_api_key_file(text: str) -> None:
    from middleware.keys import check_key_file  # at call time: middleware imports frontend

    check_key_file(text)


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
        "only OpenAI's spec: extension fields are refused, no extension events or routes, "
        "keep-alives as SSE comments, no `[DONE]`",
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
        "idle seconds before a keep-alive: a `response.ping` event (native mode), an SSE "
        "comment (compatibility mode)",
        minimum=0,
        above_minimum=True,
    ),
    Setting(
        "MAX_STREAM_EVENT_BYTES",
        int,
        0,
        "--max-stream-event-bytes",
        "bytes one delta event's SSE frame may take: a larger delta (text, reasoning, call "
        "arguments, custom tool input) is sent as several; 0 = no cap",
        minimum=0,
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
        "RATE_LIMIT_RPM",
        int,
        0,
        "--rate-limit-requests-per-minute",
        "requests per minute per API key (a key file's `requests_per_minute` overrides it; "
        "without keys: for all clients together); 0 = unlimited",
        minimum=0,
    ),
    Setting(
        "RATE_LIMIT_TPM",
        int,
        0,
        "--rate-limit-tokens-per-minute",
        "tokens (input plus output) per minute per API key (a key file's `tokens_per_minute` "
        "overrides it); 0 = unlimited",
        minimum=0,
    ),
    Setting(
        "MAX_QUEUED_REQUESTS",
        int,
        0,
        "--max-queued-requests",
        "generations that may wait per pod beyond the engine's capacity (vLLM's "
        "max_num_seqs); beyond that a create is a fast 429; 0 = twice the capacity",
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
        "API_KEYS",
        str,
        "",
        "--api-key",
        "comma-separated API keys clients must send (`Authorization: Bearer KEY` or "
        "`api-key: KEY`); the flag may be repeated; VLLM_API_KEY adds one more; none here, "
        "in VLLM_API_KEY or in the key file: auth is off",
        check=_check_api_keys,
        repeatable=True,
    ),
    Setting(
        "API_KEY_FILE",
        str,
        "",
        "--api-key-file",
        "a JSON file of API keys with their tenant, models, read-only scope and rate limits",
        check=_check_api_key_file,
    ),
    Setting(
        "AUTH_PROTECT_OPS",
        bool,
        False,
        "--auth-protect-ops",
        "`/health` and `/metrics` need an API key too (`/readyz` and `/livez` never do)",
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
    Setting(
        "AZURE_API_VERSIONS",
        str,
        DEFAULT_API_VERSIONS,
        "--azure-api-versions",
        "comma-separated `api-version` values the Azure OpenAI routes (`/openai/...`) accept "
        "(`*`: any); another one, or none where the route needs one, is Azure's 400",
        check=check_versions,
    ),
    Setting(
        "AZURE_DEPLOYMENTS",
        str,
        "",
        "--azure-deployments",
        "Azure deployments as `deployment=model,...`: the model a deployment route or a "
        "deployment name as `model` stands for (a served model's own name works without one)",
        check=check_deployments,
    ),
    Setting(
        "AZURE_REGION",
        str,
        "",
        "--azure-region",
        "the `x-ms-region` header of Azure route responses; empty: no header",
        check=check_header_value,
    ),
    Setting(
        "OPENAI_ORGANIZATION",
        str,
        "",
        "--openai-organization",
        "the `openai-organization` header of every response; empty: no header",
        check=check_header_value,
    ),
    Setting(
        "DEFAULT_SERVICE_TIER",
        str,
        "auto",
        "--responses-default-service-tier",
        "the service tier of a request without one (or with `auto`); it must be among the "
        "allowed ones (`auto`: the `default` tier)",
        check=check_tier,
    ),
    Setting(
        "ALLOWED_SERVICE_TIERS",
        str,
        ",".join(SERVICE_TIERS),
        "--responses-allowed-service-tiers",
        "comma-separated service tiers a request may ask for (another one: 400); `priority` "
        "and `fast` run ahead of `default` (and `auto`, `scale`), `flex` after, when the "
        "engine runs `--scheduling-policy priority`",
        check=check_tiers,
    ),
    Setting(
        "LOG_FORMAT",
        str,
        "text",
        "--log-format",
        "`text` or `json` (one object a line: ts, level, logger, message, request_id); "
        "`portico serve` gives the sidecar the same",
        check=check_log_format,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
BY_FLAG: dict[str, Setting] = {s.flag: s for s in SETTINGS}

# Flags of vLLM's Responses server (see the migration guide) whose feature is not built yet:
# flag -> the feature. Building one means moving it into SETTINGS.
NOT_BUILT: dict[str, str] = {}

# Defaults live here (not as class attributes, which would shadow Sanic's values).
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


def from_environ(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting given as a PORTICO_ variable, typed; SettingError on a bad value."""
    environ = os.environ if environ is None else environ
    return {s.name: s.parse(environ[s.env], s.env) for s in SETTINGS if s.env in environ}


def check_together(values: Mapping[str, Any]) -> None:
    """The checks that involve several settings (`values`: every setting by name, typed);
    SettingError, one line naming them."""
    tiers = TierPolicy.from_values(values)
    try:
        tiers.check()
    except ValueError as exc:
        default, allowed = BY_NAME["DEFAULT_SERVICE_TIER"], BY_NAME["ALLOWED_SERVICE_TIERS"]
        raise SettingError(
            f"{default.flag} ({default.env}): {exc}, set by {allowed.flag} ({allowed.env})"
        ) from None


class PorticoConfig(Config):
    """Settings; each can be set as an environment variable with the PORTICO_ prefix."""

    SIDECAR_SOCKET: str  # the sidecar's Unix socket
    SIDECAR_CONNECT_TIMEOUT: float  # seconds to open a socket connection
    HEALTH_INTERVAL: float  # seconds between health probes of the sidecar
    SERVED_MODEL_NAME: str  # an extra name the model answers to
    COMPATIBILITY_MODE: bool  # only what OpenAI's spec defines; no extensions
    MAX_BODY_BYTES: int  # larger request bodies get 413
    SSE_PING_INTERVAL: float  # idle seconds before a keep-alive (ping event or comment)
    MAX_STREAM_EVENT_BYTES: int  # bytes one delta event may take; 0 = no cap
    STORE_MAX_ENTRIES: int  # stored responses kept (oldest evicted)
    STORE_MAX_BYTES: int  # bytes of stored responses kept (oldest evicted)
    STORE_TTL: float  # seconds a stored response is kept
    STORE_URL: str  # redis:// or unix:// for the shared store; empty: in memory
    GENERATION_TIMEOUT: float  # seconds one generation may run; 0 = no limit
    RATE_LIMIT_RPM: int  # requests per minute per key; 0 = unlimited
    RATE_LIMIT_TPM: int  # tokens per minute per key; 0 = unlimited
    MAX_QUEUED_REQUESTS: int  # generations waiting per pod beyond capacity; 0 = 2x capacity
    STREAM_BUFFER_MAX_BYTES: int  # bytes of events kept per background response
    TOOL_TIMEOUT: float  # seconds a response waits for tool outputs; 0 = until the TTL
    HOSTED_TOOLS: str  # hosted tools: "omit" (left out, recorded) or "refuse" (400)
    REASONING_KEYS: str  # base64 keys for encrypted reasoning; the first encrypts
    API_KEYS: str  # comma-separated API keys; none (and no key file): auth is off
    API_KEY_FILE: str  # a JSON file of keys with tenants, models, scopes, limits
    AUTH_PROTECT_OPS: bool  # /health and /metrics need a key too
    AZURE_API_VERSIONS: str  # api-versions the /openai/ routes accept; "*": any
    AZURE_DEPLOYMENTS: str  # "deployment=model,..." for the /openai/ routes
    AZURE_REGION: str  # x-ms-region on /openai/ responses; empty: none
    OPENAI_ORGANIZATION: str  # openai-organization on every response; empty: none
    DEFAULT_SERVICE_TIER: str  # the tier of a request without one; must be allowed
    ALLOWED_SERVICE_TIERS: str  # comma-separated tiers a request may ask for
    LOG_FORMAT: str  # "text" or "json" (one object a line)

    def __init__(self, **overrides: Any) -> None:
        super().__init__(defaults=DEFAULTS, env_prefix=ENV_PREFIX)
        # Sanic guesses each variable's type from its text ("123" becomes an int even for a
        # name); the table's types win, and a bad value stops the start with one line.
        self.update(from_environ())
        self.update(overrides)
        check_together(self)
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
