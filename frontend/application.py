"""The app factory: `create_app(config)` builds a Sanic app with every layer registered.

Owns the wiring — errors, middleware, routes — and the per-worker listeners that open the
sidecar client and the store.
"""

from __future__ import annotations

from sanic import Sanic

import middleware

from . import errors, metrics, routes
from .client.base import SidecarClient
from .client.uds import UdsSidecarClient
from .config import PorticoConfig
from .context import PorticoContext
from .store import MemoryStore


def create_app(
    config: PorticoConfig | None = None,
    *,
    name: str = "portico",
    client: SidecarClient | None = None,
) -> Sanic:
    """`client`, when given, is the sidecar client every worker uses (tests pass an
    in-process one); otherwise each worker opens a UdsSidecarClient on SIDECAR_SOCKET."""
    config = config or PorticoConfig()
    app: Sanic[PorticoConfig, PorticoContext] = Sanic(
        name, config=config, ctx=PorticoContext(served_model_name=config.SERVED_MODEL_NAME)
    )
    errors.register(app)
    middleware.register(app)
    routes.register(app)

    @app.before_server_start
    async def open_sidecar(app: Sanic) -> None:
        cfg: PorticoConfig = app.config
        sidecar = client
        if sidecar is None:
            sidecar = UdsSidecarClient(
                cfg.SIDECAR_SOCKET,
                connect_timeout=cfg.SIDECAR_CONNECT_TIMEOUT,
                health_interval=cfg.HEALTH_INTERVAL,
                on_health=lambda up: metrics.SIDECAR_UP.set(1 if up else 0),
            )
        await sidecar.start()
        app.ctx.sidecar = sidecar
        app.ctx.store = MemoryStore(max_entries=cfg.STORE_MAX_ENTRIES, ttl=cfg.STORE_TTL)

    @app.after_server_stop
    async def close_sidecar(app: Sanic) -> None:
        if app.ctx.sidecar is not None:
            await app.ctx.sidecar.stop()
        if app.ctx.store is not None:
            await app.ctx.store.close()

    return app
