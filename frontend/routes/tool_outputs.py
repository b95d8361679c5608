"""`POST /v1/responses/{id}/tool_outputs`: continue a stored response that waits for the
outputs of its function calls (a native extension; compatibility mode has no such path: 404).

Thin: read the entry (any worker's), settle the tool timeout, check the outputs against the
pending calls (frontend/sessions.py), take the submission once for every worker (the store's
one-time claim: a second one is 409), then run the model again on the whole conversation as
a ResponseRun with create's observers, and answer the continued response as JSON (as stored:
`requires_action` again if it ended in calls again) or as SSE (sequence numbers continuing
from the response's last event). A background response's continuation runs as a background
run (background.continue_run): logged for resumes, followed from the run log when streamed.
Every failure is raised and mapped in errors.py.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

import msgspec
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from .. import background, extensions, history, metrics, service_tiers, sessions, translate
from ..context import allowed_models, of, request_id_of, tenant_of
from ..errors import Conflict, NotFound, ServiceUnavailable
from ..openai.parse import parse_body
from ..openai.tool_outputs import ToolOutputsRequest
from ..run import ResponseRun
from ..store import ResponseStore, StoredResponse
from ..streaming import replay, sse

bp = Blueprint("tool_outputs", url_prefix="/v1")
ROUTE = "/v1/responses/{id}/tool_outputs"


def _store(request: Request) -> ResponseStore:
    store = of(request).store
    if store is None:
        raise ServiceUnavailable("The response store is not open yet; retry shortly.")
    return store


async def _open_run(
    request: Request,
    entry: StoredResponse,
    body: ToolOutputsRequest,
    started: float,
) -> tuple[ResponseRun, sessions.SessionObserver]:
    """Check the outputs, take the submission, and start the continuation's generation."""
    ctx, config = of(request), request.app.config
    store, tenant = _store(request), tenant_of(request)
    calls = sessions.waiting_calls(entry)
    tool_messages, tool_items = sessions.answer(calls, body.tool_outputs)
    session = entry.session
    assert session is not None  # waiting_calls found calls
    handshake = ctx.handshake()
    create = sessions.request_of(session)
    model = ctx.resolve_model(create.model, allowed_models(request))
    response = entry.response
    before = await history.conversation(store, tenant, response.get("previous_response_id"))
    round_output = response["output"][session.round_start :]
    turn = entry.messages + translate.output_messages(round_output) + tool_messages
    sealer = ctx.sealer
    generate = translate.generate_request(
        create,
        before + turn,
        request_id=entry.id,
        handshake=handshake,
        sealing=sealer is not None,
        hosted_tools=config.HOSTED_TOOLS,
        tier=service_tiers.for_request(create.service_tier, config, handshake),
        trace_id=request_id_of(request),
    )
    if ctx.sidecar is None:
        raise ServiceUnavailable("The inference sidecar is not ready; retry shortly.")
    claim = f"{entry.id}:tool_outputs:{session.rounds}"
    if not await store.claim(tenant, claim, config.STORE_TTL):
        raise Conflict(
            f"Tool outputs for response '{entry.id}' were already submitted.", param="tool_outputs"
        )
    rounds = session.rounds + 1
    observer = sessions.SessionObserver(
        store,
        tenant,
        turn,
        entry.input_items + tool_items,
        session.request,
        round_start=len(response["output"]),
        rounds=rounds,
    )
    assembler = sessions.ContinuationAssembler(
        sessions.resumed(response),
        sequence=session.sequence,
        logprobs=generate.sampling.top_logprobs is not None,
        seal=partial(sealer.seal, tenant=tenant)
        if sealer and translate.encrypted_reasoning(create)
        else None,
        max_event_bytes=config.MAX_STREAM_EVENT_BYTES,
    )
    run = ResponseRun(
        ctx.sidecar, generate, assembler, observers=[observer], timeout=config.GENERATION_TIMEOUT
    )
    running = StoredResponse(
        response=sessions.resumed(response),
        input_items=observer.input_items,
        messages=turn,
        session=msgspec.structs.replace(session, rounds=rounds, waiting_since=None),
    )
    leased = bool(response.get("background")) and ctx.runlog is not None
    try:
        if leased:  # its lease first: a reader would take it for an orphan (background.py)
            await background.hold(ctx, tenant, entry.id)
        await store.put(tenant, running)  # every worker now sees it in progress
        await run.start()
    except BaseException:
        await store.put(tenant, entry)  # not started: the response waits again
        await store.release(tenant, claim)
        if leased and ctx.runlog is not None:
            await ctx.runlog.release(tenant, entry.id)
        raise
    run.observers.append(sessions.RoundMetrics(model, started))
    return run, observer


@bp.post("/responses/<response_id>/tool_outputs")
async def submit_tool_outputs(request: Request, response_id: str) -> HTTPResponse | None:
    started = time.monotonic()
    config = request.app.config
    extensions.require_native(request)  # not OpenAI's: no such path in compatibility mode
    body = parse_body(ToolOutputsRequest, request.json)
    store, tenant = _store(request), tenant_of(request)
    entry = await store.get(tenant, response_id)
    if entry is None:
        raise NotFound(f"Response with id '{response_id}' not found.", param="response_id")
    entry = await sessions.settle(store, tenant, entry, config.TOOL_TIMEOUT)
    try:
        run, observer = await _open_run(request, entry, body, started)
        if entry.response.get("background"):
            return await _continue_background(request, entry, run, observer, bool(body.stream))
        async with run:
            if body.stream:
                await sse.relay(request, run, extensions.stream_mode(request))
                return None
            final = await run.result()
            return json(observer.stored if observer.stored is not None else final)
    finally:
        metrics.REQUEST_SECONDS.labels(ROUTE).observe(time.monotonic() - started)


async def _continue_background(
    request: Request,
    entry: StoredResponse,
    run: ResponseRun,
    observer: sessions.SessionObserver,
    stream: bool,
) -> HTTPResponse | None:
    """A background response's continuation runs as a background run (background.py): its
    events go on in the response's run log, so `GET …?stream=true` on any worker follows it,
    and leaving does not stop it. JSON: answered when it ends; SSE: followed from the log."""
    ctx, tenant = of(request), tenant_of(request)
    assert ctx.runlog is not None and ctx.store is not None and entry.session is not None
    task = await background.continue_run(ctx, run, tenant)
    if not stream:
        await asyncio.shield(task)
        return json(observer.stored if observer.stored is not None else run.response)
    runlog, after = ctx.runlog, entry.session.sequence - 1
    await replay.follow(
        request,
        runlog,
        tenant,
        entry.id,
        after,
        await replay.window(runlog, tenant, entry.id, after),
        settle=partial(background.alive, ctx.store, runlog, tenant, entry.id),
        mode=extensions.stream_mode(request),
    )
    return None
