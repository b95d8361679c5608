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
from .store.runlog import RunLog


@dataclass
class PorticoContext:
    sidecar: SidecarClient | None = None
    store: ResponseStore | None = None
    runlog: RunLog | None = None  # background runs: event logs, leases, cancel requests
    background: set[asyncio.Task[None]] = field(default_factory=set)  # this worker's runs
    served_model_name: str = ""
    sealer: Sealer | None = None  # encrypted reasoning; None without REASONING_KEYS
    started_at: int = field(default_factory=lambda: int(time.time()))

    def ready(self) -> bool:
        """The one readiness predicate (the client's health watch), for routes and /health."""
        return self.sidecar is not None and self.sidecar.ready

    def handshake(self) -> Handshake:
        """The live handshake, or 503 while the sidecar is away."""
        if self.sidecar is None or self.sidecar.handshake is None or not self.sidecar.ready:
            raise ServiceUnavailable("The inference sidecar is not ready; retry shortly.")
        return self.sidecar.handshake

    def model_names(self) -> list[str]:
        names = list(self.handshake().model_names)
        if self.served_model_name and self.served_model_name not in names:
            names.insert(0, self.served_model_name)
        return names

    def resolve_model(self, name: str) -> str:
        if name not in self.model_names():
            raise ModelNotFound(
                f"The model '{name}' does not exist or you do not have access to it.",
                param="model",
            )
        return name


def of(request: Request) -> PorticoContext:
    """The typed context of the app serving `request`."""
    return cast(PorticoContext, request.app.ctx)


def tenant_of(request: Request) -> str:
    """Whose request this is: the tenant id the auth layer sets on `request.ctx.tenant` (an
    id derived from the API key, never the key), "" until there is one. Everything stored is
    scoped to it."""
    return str(getattr(request.ctx, "tenant", ""))
