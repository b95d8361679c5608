"""The app factory: `create_app(config)` builds a Sanic app with every layer registered.

Owns the wiring — errors, middleware, routes — the per-worker listeners that open the
sidecar client and the store, and the main process's part: one Prometheus multiprocess folder
for all workers (metrics.py), and the refusal to give several workers a store each (memory
without PORTICO_STORE_URL).
"""

from __future__ import annotations

import sys

from sanic import Sanic
from sanic import log as sanic_log

import middleware

from . import errors, log_format, metrics, routes
from .client.base import SidecarClient
from .client.shards import ShardedSidecarClient
from .config import BY_NAME, PorticoConfig
from .context import PorticoContext
from .request_body import TimedBodyRequest
from .sealing import Sealer
from .store import open_store
from .store.runlog import open_runlog


def create_app(
    config: PorticoConfig | None = None,
    *,
    name: str = "portico",
    client: SidecarClient | None = None,
) -> Sanic:
    """`client`, when given, is the sidecar client every worker uses (tests pass an
    in-process one); otherwise each worker opens a ShardedSidecarClient on SIDECAR_SOCKET
    (a client for every shard of the sidecar)."""
    config = config or PorticoConfig()
    ctx = PorticoContext(
        served_model_name=config.SERVED_MODEL_NAME,
        sealer=Sealer.from_setting(config.REASONING_KEYS),
    )
    log_format.configure(config.LOG_FORMAT)  # Portico's loggers; Sanic's by log_config
    app: Sanic[PorticoConfig, PorticoContext] = Sanic(
        name,
        config=config,
        ctx=ctx,
        log_config=log_format.sanic_log_config(config.LOG_FORMAT),
        request_class=TimedBodyRequest,  # a body arrives within REQUEST_TIMEOUT
    )
    errors.register(app)
    middleware.register(app)
    routes.register(app)

    metrics_dir: list[str | None] = [None]  # made by the main process, removed at its stop

    @app.main_process_start
    async def one_metrics_dir_for_all_workers(app: Sanic) -> None:
        metrics_dir[0] = metrics.own_multiprocess_dir(app.state.workers)

    @app.main_process_stop
    async def drop_metrics_dir(app: Sanic) -> None:
        metrics.drop_multiprocess_dir(metrics_dir[0])

    @app.main_process_start
    async def one_store_for_all_workers(app: Sanic) -> None:
        """Several workers each with their own memory store would answer 404 for what
        another stored: refuse to start, in one line, naming the setting that fixes it."""
        workers = app.state.workers
        if workers > 1 and not app.config.STORE_URL:
            url = BY_NAME["STORE_URL"]
            sanic_log.logger.disabled = sanic_log.error_logger.disabled = True  # just this line
            sys.exit(
                f"portico: {workers} workers need a shared response store: set {url.env} "
                f"({url.flag}) to a Redis URL, or run one worker"
            )

    @app.before_server_start
    async def open_sidecar(app: Sanic) -> None:
        cfg: PorticoConfig = app.config
        sidecar = client
        if sidecar is None:
            sidecar = ShardedSidecarClient(
                cfg.SIDECAR_SOCKET,
                connect_timeout=cfg.SIDECAR_CONNECT_TIMEOUT,
                health_interval=cfg.HEALTH_INTERVAL,
                on_health=lambda up: metrics.SIDECAR_UP.set(1 if up else 0),
                max_queued_requests=cfg.MAX_QUEUED_REQUESTS,  # admission control, per pod
            )
        await sidecar.start()
        app.ctx.sidecar = sidecar
        app.ctx.store = open_store(cfg)
        app.ctx.runlog = open_runlog(
            cfg.STORE_URL,
            max_bytes=cfg.STREAM_BUFFER_MAX_BYTES,
            ttl=cfg.STORE_TTL,
            max_logs=cfg.STORE_MAX_ENTRIES,
        )

    @app.after_server_stop
    async def close_sidecar(app: Sanic) -> None:
        if app.ctx.sidecar is not None:
            await app.ctx.sidecar.stop()
        if app.ctx.store is not None:
            await app.ctx.store.close()
        if app.ctx.runlog is not None:
            await app.ctx.runlog.close()

    return app
