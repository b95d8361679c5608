"""Portico's typed configuration: a Sanic Config subclass filled from PORTICO_* variables.

Owns every setting's name, type and default; README.md documents them in one table.
Defaults live in DEFAULTS (not as class attributes, which would shadow Sanic's values).
"""

from __future__ import annotations

from typing import Any

from sanic.config import Config

DEFAULTS: dict[str, Any] = {
    "SIDECAR_SOCKET": "/tmp/portico/sidecar.sock",
    "SIDECAR_CONNECT_TIMEOUT": 5.0,
    "HEALTH_INTERVAL": 5.0,
    "SERVED_MODEL_NAME": "",
    "COMPATIBILITY_MODE": False,
    "MAX_BODY_BYTES": 8 * 1024 * 1024,
    "SSE_PING_INTERVAL": 15.0,
    "STORE_MAX_ENTRIES": 10_000,
    "STORE_TTL": 24 * 3600.0,
}


class PorticoConfig(Config):
    """Settings; each can be set as an environment variable with the PORTICO_ prefix."""

    SIDECAR_SOCKET: str  # the sidecar's Unix socket
    SIDECAR_CONNECT_TIMEOUT: float  # seconds to open a socket connection
    HEALTH_INTERVAL: float  # seconds between health probes of the sidecar
    SERVED_MODEL_NAME: str  # an extra name the model answers to
    COMPATIBILITY_MODE: bool  # only what OpenAI's spec defines; no extensions
    MAX_BODY_BYTES: int  # larger request bodies get 413
    SSE_PING_INTERVAL: float  # idle seconds before an SSE keep-alive comment
    STORE_MAX_ENTRIES: int  # stored responses kept per worker (oldest evicted)
    STORE_TTL: float  # seconds a stored response is kept

    def __init__(self, **overrides: Any) -> None:
        super().__init__(defaults=DEFAULTS, env_prefix="PORTICO_")
        self.update(overrides)
        self.REQUEST_MAX_SIZE = self.MAX_BODY_BYTES
        self.KEEP_ALIVE_TIMEOUT = 75  # behind load balancers that keep connections ~60 s
        self.FALLBACK_ERROR_FORMAT = "json"
        self.NOISY_EXCEPTIONS = False
        self.OAS = False
