"""The per-worker application context (Sanic's typed ctx): sidecar client, store, run log,
sealer, and the background runs this worker owns.

Owns what one worker holds; filled by the listeners in application.py.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import cast

from sanic import Request

from inference.protocol import Handshake

from .client.base import SidecarClient
from .errors import ModelNotFound, ServiceUnavailable
from .sealing import Sealer
from .store import ResponseStore
from .store.limits import Limiter
from .store.runlog import RunLog


@dataclass
class PorticoContext:
    sidecar: SidecarClient | None = None
    store: ResponseStore | None = None
    runlog: RunLog | None = None  # background runs: event logs, leases, cancel requests
    background: set[asyncio.Task[None]] = field(default_factory=set)  # this worker's runs
    served_model_name: str = ""
    sealer: Sealer | None = None  # encrypted reasoning; None without REASONING_KEYS
    limiter: Limiter | None = None  # rate-limit counters (middleware/rate_limit.py)
    draining: bool = False  # the server is stopping: new requests get 503 (admission.py)
    started_at: int = field(default_factory=lambda: int(time.time()))

    def ready(self) -> bool:
        """The one readiness predicate (the client's health watch), for routes and /health."""
        return self.sidecar is not None and self.sidecar.ready

    def handshake(self) -> Handshake:
        """The live handshake, or 503 while the sidecar is away."""
        if self.sidecar is None or self.sidecar.handshake is None or not self.sidecar.ready:
            raise ServiceUnavailable("The inference sidecar is not ready; retry shortly.")
        return self.sidecar.handshake

    def model_names(self, allowed: frozenset[str] | None = None) -> list[str]:
        """The served names; with `allowed` (an API key's models), only those."""
        names = list(self.handshake().model_names)
        if self.served_model_name and self.served_model_name not in names:
            names.insert(0, self.served_model_name)
        return names if allowed is None else [n for n in names if n in allowed]

    def resolve_model(self, name: str | None, allowed: frozenset[str] | None = None) -> str:
        """`name` when it is served (and in `allowed`); None: the first such name."""
        names = self.model_names(allowed)
        if name is None and names:
            return names[0]
        if name is not None and name in names:
            return name
        raise ModelNotFound(
            f"The model '{name or ''}' does not exist or you do not have access to it.",
            param="model",
        )


def of(request: Request) -> PorticoContext:
    """The typed context of the app serving `request`."""
    return cast(PorticoContext, request.app.ctx)


def allowed_models(request: Request) -> frozenset[str] | None:
    """The model names the request's API key may use (middleware/auth.py sets
    `request.ctx.api_key`); None: every served one."""
    return getattr(getattr(request.ctx, "api_key", None), "models", None)


def request_id_of(request: Request) -> str | None:
    """The request's id (middleware/request_id.py: the caller's X-Request-Id or body
    `request_id`, else a generated one)."""
    value = getattr(request.ctx, "request_id", None)
    return value if isinstance(value, str) else None


def tenant_of(request: Request) -> str:
    """Whose request this is: the tenant id the auth layer sets on `request.ctx.tenant` (an
    id derived from the API key, never the key), "" until there is one. Everything stored is
    scoped to it."""
    return str(getattr(request.ctx, "tenant", ""))
