"""Admission control: a bounded number of generations per pod, and no new work while stopping.

The bound itself is kept where every worker of a pod meets, the sidecar: each HELLO carries
PORTICO_MAX_QUEUED_REQUESTS (docs/protocol.md), and a GENERATE beyond the engine's capacity
(Handshake.max_num_seqs) plus that queue is refused with ERROR queue_full, which
frontend/errors.py answers as a fast 429 `engine_overloaded` with Retry-After. This layer
counts those refusals (portico_admission_rejections_total{reason="queue_full"}), and, once
the server begins to stop (before_server_stop), answers every new request 503 with
Retry-After (reason "draining"; /livez and /metrics still answer) while the running ones
finish. Nothing waits in memory here.
"""

from __future__ import annotations

from sanic import Request, Sanic

from frontend import metrics
from frontend.context import of
from frontend.errors import ServiceUnavailable
from inference.protocol import ErrorCode, RequestError

DRAINING = "draining"
QUEUE_FULL = "queue_full"
EXEMPT = ("/livez", "/metrics")  # a stopping server is alive, and its figures still count


async def refuse_while_draining(request: Request) -> None:
    if of(request).draining and request.path not in EXEMPT:
        metrics.ADMISSION_REJECTIONS.labels(DRAINING).inc()
        raise ServiceUnavailable("The server is shutting down; retry shortly.")


def register(app: Sanic) -> None:
    async def serve(app: Sanic) -> None:
        app.ctx.draining = False

    async def drain(app: Sanic) -> None:
        app.ctx.draining = True

    async def count_refusal(request: Request, exception: BaseException) -> None:
        if isinstance(exception, RequestError) and exception.code == ErrorCode.QUEUE_FULL:
            metrics.ADMISSION_REJECTIONS.labels(QUEUE_FULL).inc()

    app.register_listener(serve, "before_server_start")
    app.register_listener(drain, "before_server_stop")
    app.add_signal(count_refusal, "http.lifecycle.exception")
    # before the rate limit: a refused request costs its key nothing
    app.register_middleware(refuse_while_draining, "request", priority=84)
