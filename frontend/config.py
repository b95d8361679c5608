"""Portico's typed configuration: a Sanic Config subclass filled from PORTICO_* variables.

Owns every setting's name, type and default; README.md documents them in one table.
"""

from __future__ import annotations

from typing import Any

from sanic.config import Config


class PorticoConfig(Config):
    """Settings; each can be set as an environment variable with the PORTICO_ prefix."""

    SIDECAR_SOCKET: str = "/tmp/portico/sidecar.sock"
    SIDECAR_CONNECT_TIMEOUT: float = 5.0  # seconds to open a socket connection
    SIDECAR_STARTUP_TIMEOUT: float = 600.0  # seconds a worker waits for the first handshake
    HEALTH_INTERVAL: float = 5.0  # seconds between health probes of the sidecar
    SERVED_MODEL_NAME: str = ""  # extra name the model answers to (besides the sidecar's)
    COMPATIBILITY_MODE: bool = False  # only what OpenAI's spec defines; no extensions
    MAX_BODY_BYTES: int = 8 * 1024 * 1024
    SSE_PING_INTERVAL: float = 15.0  # idle seconds before a keep-alive (ping event or comment)
    STORE_MAX_ENTRIES: int = 10_000
    STORE_TTL: float = 24 * 3600.0
    API_KEYS: str = ""  # reserved for the auth middleware (comma-separated)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(env_prefix="PORTICO_", **kwargs)
        self.REQUEST_MAX_SIZE = self.MAX_BODY_BYTES
        self.KEEP_ALIVE_TIMEOUT = 75  # behind load balancers that keep connections ~60 s
        self.FALLBACK_ERROR_FORMAT = "json"
        self.NOISY_EXCEPTIONS = False
        self.OAS = False
