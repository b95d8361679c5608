"""`/v1/responses`: create (JSON or SSE), retrieve and delete stored responses.

Thin: validate, translate, open a ResponseRun (frontend/run.py) with its observers, and
hand it to the JSON answer or the SSE writer. Every failure is raised and mapped in errors.py.
"""

from __future__ import annotations

import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from inference.protocol import ChatMessage

from .. import metrics, translate
from ..context import PorticoContext, of
from ..errors import NotFound, ServiceUnavailable
from ..observers import MetricsObserver, StoreObserver
from ..openai.parse import parse_body
from ..openai.request import CreateResponse
from ..openai.response import new_id, skeleton
from ..run import ResponseRun, RunObserver
from ..streaming import sse
from ..streaming.assembler import ResponseAssembler

bp = Blueprint("responses", url_prefix="/v1")


def _tenant(request: Request) -> str:
    return getattr(request.ctx, "tenant", "")


async def _history(ctx: PorticoContext, tenant: str, previous_id: str | None) -> list[ChatMessage]:
    if previous_id is None:
        return []
    entry = await ctx.store.get(tenant, previous_id) if ctx.store else None
    if entry is None:
        raise NotFound(
            f"Previous response with id '{previous_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    return entry.conversation


async def _open_run(request: Request, body: CreateResponse, started: float) -> ResponseRun:
    """Validate against the live sidecar, translate, and start the generation."""
    ctx = of(request)
    handshake = ctx.handshake()
    model = ctx.resolve_model(body.model)
    tenant = _tenant(request)
    conversation = await _history(ctx, tenant, body.previous_response_id)
    conversation = conversation + translate.input_messages(body)
    response_id = new_id("resp")
    generate = translate.generate_request(
        body, conversation, request_id=response_id, handshake=handshake
    )
    if ctx.sidecar is None:
        raise ServiceUnavailable("The inference sidecar is not ready; retry shortly.")
    assembler = ResponseAssembler(
        skeleton(body, response_id=response_id, model=model),
        logprobs=generate.sampling.top_logprobs is not None,
    )
    observers: list[RunObserver] = []
    if body.store is not False and ctx.store is not None:
        observers.append(StoreObserver(ctx.store, tenant, conversation))
    run = ResponseRun(
        ctx.sidecar,
        generate,
        assembler,
        observers=observers,
        timeout=request.app.config.GENERATION_TIMEOUT,
    )
    await run.start()
    run.observers.append(MetricsObserver(model, started))  # counted once it runs
    return run


@bp.post("/responses")
async def create_response(request: Request) -> HTTPResponse | None:
    started = time.monotonic()
    body = parse_body(CreateResponse, request.json)
    try:
        async with await _open_run(request, body, started) as run:
            if body.stream:
                await sse.relay(
                    request,
                    run,
                    done_marker=not request.app.config.COMPATIBILITY_MODE,
                    ping_interval=request.app.config.SSE_PING_INTERVAL,
                )
                return None
            return json(await run.result())
    finally:
        metrics.REQUEST_SECONDS.labels("/v1/responses").observe(time.monotonic() - started)


@bp.get("/responses/<response_id>")
async def retrieve_response(request: Request, response_id: str) -> HTTPResponse:
    ctx = of(request)
    entry = await ctx.store.get(_tenant(request), response_id) if ctx.store else None
    if entry is None:
        raise NotFound(f"Response with id '{response_id}' not found.", param="response_id")
    return json(entry.response)


@bp.delete("/responses/<response_id>")
async def delete_response(request: Request, response_id: str) -> HTTPResponse:
    ctx = of(request)
    deleted = await ctx.store.delete(_tenant(request), response_id) if ctx.store else False
    if not deleted:
        raise NotFound(f"Response with id '{response_id}' not found.", param="response_id")
    return json({"id": response_id, "object": "response", "deleted": True})
