"""`POST /v1/responses`: create a response, as JSON or SSE (stored ones: routes/stored.py).

Thin: validate, translate, open a ResponseRun (frontend/run.py) with its observers, and
hand it to the JSON answer or the SSE writer. Every failure is raised and mapped in errors.py.
"""

from __future__ import annotations

import time
from functools import partial

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from .. import (
    background,
    extensions,
    history,
    metrics,
    rate_limits,
    service_tiers,
    sessions,
    translate,
)
from ..context import allowed_models, of, request_id_of, tenant_of
from ..errors import ServiceUnavailable
from ..observers import MetricsObserver
from ..openai.items import input_items
from ..openai.parse import parse_body
from ..openai.request import CreateResponse
from ..openai.response import new_id, skeleton
from ..run import ResponseRun, RunObserver
from ..streaming import replay, sse
from ..streaming.assembler import ResponseAssembler

bp = Blueprint("responses", url_prefix="/v1")


async def _open_run(
    request: Request, body: CreateResponse, started: float, *, start: bool = True
) -> ResponseRun:
    """Validate against the live sidecar, translate, and start the generation (a background
    run is started by its own task: `start=False`)."""
    ctx = of(request)
    handshake = ctx.handshake()
    model = ctx.resolve_model(body.model, allowed_models(request))
    tenant = tenant_of(request)
    conversation = await history.conversation(ctx.store, tenant, body.previous_response_id)
    sealer = ctx.sealer  # encrypted reasoning, bound to the tenant
    unseal = partial(sealer.open, tenant=tenant) if sealer else None
    messages = translate.input_messages(body, unseal)  # this turn's, as it is stored
    conversation = conversation + messages
    response_id = new_id("resp")
    tier = service_tiers.for_request(body.service_tier, request.app.config, handshake)
    generate = translate.generate_request(
        body,
        conversation,
        request_id=response_id,
        handshake=handshake,
        sealing=sealer is not None,
        hosted_tools=request.app.config.HOSTED_TOOLS,
        tier=tier,
        trace_id=request_id_of(request),
    )
    if ctx.sidecar is None:
        raise ServiceUnavailable("The inference sidecar is not ready; retry shortly.")
    asked = translate.encrypted_reasoning(body)
    assembler = ResponseAssembler(
        skeleton(body, response_id=response_id, model=model, service_tier=tier.served),
        logprobs=generate.sampling.top_logprobs is not None,
        seal=partial(sealer.seal, tenant=tenant) if sealer and asked else None,
        max_event_bytes=request.app.config.MAX_STREAM_EVENT_BYTES,
    )
    observers: list[RunObserver] = rate_limits.run_observers(request)  # tokens reconciled
    if body.store is not False and ctx.store is not None:
        compatibility = extensions.compatibility(request)  # sessions: native mode only
        observers.append(
            sessions.store_observer(
                compatibility, ctx.store, tenant, messages, input_items(body), body
            )
        )
    run = ResponseRun(
        ctx.sidecar,
        generate,
        assembler,
        observers=observers,
        timeout=request.app.config.GENERATION_TIMEOUT,
    )
    if start:
        await run.start()
        run.observers.append(MetricsObserver(model, started))  # counted once it runs
    return run


async def _background(
    request: Request, body: CreateResponse, started: float
) -> HTTPResponse | None:
    """Queue a background run (background.py) and answer at once: the queued Response, or
    its stream followed from the run log (leaving does not stop the run)."""
    ctx = of(request)
    if ctx.runlog is None or ctx.store is None:
        raise ServiceUnavailable("The response store is not open yet; retry shortly.")
    run = await _open_run(request, body, started, start=False)
    tenant, rid = tenant_of(request), run.request.request_id
    model = run.response["model"]
    queued = await background.launch(ctx, run, tenant, partial(MetricsObserver, model, started))
    if not body.stream:
        return json(queued)
    store, runlog = ctx.store, ctx.runlog
    await replay.follow(
        request,
        runlog,
        tenant,
        rid,
        -1,
        await replay.window(runlog, tenant, rid, -1),
        settle=partial(background.alive, store, runlog, tenant, rid),
        mode=extensions.stream_mode(request),
    )
    return None


@bp.post("/responses", ctx_creates_response=True)  # middleware/compatibility.py reads it
async def create_response(request: Request) -> HTTPResponse | None:
    started = time.monotonic()
    body = parse_body(CreateResponse, request.json)
    try:
        if body.background:
            return await _background(request, body, started)
        async with await _open_run(request, body, started) as run:
            if body.stream:
                await sse.relay(request, run, extensions.stream_mode(request))
                return None
            return json(await run.result())
    finally:
        metrics.REQUEST_SECONDS.labels("/v1/responses").observe(time.monotonic() - started)
