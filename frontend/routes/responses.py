"""`/v1/responses`: create (JSON or SSE), retrieve and delete stored responses.

Thin: validate, translate, hand the generation to the assembler (and the SSE writer when
streaming), store the result. Every failure is raised and mapped in errors.py.
"""

from __future__ import annotations

import time

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from inference.protocol import ChatMessage

from .. import metrics, translate
from ..context import PorticoContext, of
from ..errors import NotFound, ServiceUnavailable
from ..openai.parse import parse_body
from ..openai.request import CreateResponse
from ..openai.response import new_id, skeleton
from ..store import StoredResponse
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
            f"Previous response with id '{previous_id}' not found.", param="previous_response_id"
        )
    return entry.conversation


@bp.post("/responses")
async def create_response(request: Request) -> HTTPResponse | None:
    started = time.monotonic()
    ctx = of(request)
    body = parse_body(CreateResponse, request.json)
    handshake = ctx.handshake()
    model = ctx.resolve_model(body.model)
    tenant = _tenant(request)
    conversation = await _history(ctx, tenant, body.previous_response_id)
    conversation = conversation + translate.input_messages(body)
    response_id = new_id("resp")
    generate = translate.generate_request(
        body, conversation, request_id=response_id, handshake=handshake
    )

    def first_token() -> None:
        metrics.TTFT_SECONDS.labels(model).observe(time.monotonic() - started)

    assembler = ResponseAssembler(
        skeleton(body, response_id=response_id, model=model),
        logprobs=generate.sampling.top_logprobs is not None,
        on_first_token=first_token,
    )

    async def finish(done: ResponseAssembler) -> None:
        response = done.response
        usage = response.get("usage")
        if usage is not None:
            metrics.INPUT_TOKENS.labels(model).inc(usage["input_tokens"])
            metrics.CACHED_TOKENS.labels(model).inc(usage["input_tokens_details"]["cached_tokens"])
            metrics.OUTPUT_TOKENS.labels(model).inc(usage["output_tokens"])
        metrics.RESPONSES.labels(model, response["status"]).inc()
        if body.store is not False and ctx.store is not None and response["status"] != "failed":
            history = conversation + translate.output_messages(response["output"])
            await ctx.store.put(tenant, StoredResponse(response=response, conversation=history))

    sidecar = ctx.sidecar
    if sidecar is None:
        raise ServiceUnavailable("The inference sidecar is not ready; retry shortly.")
    metrics.IN_FLIGHT.inc()
    try:
        generation = await sidecar.generate(generate)
        try:
            if body.stream:
                await sse.relay(
                    request,
                    generation,
                    assembler,
                    done_marker=not request.app.config.COMPATIBILITY_MODE,
                    ping_interval=request.app.config.SSE_PING_INTERVAL,
                    on_finish=finish,
                )
                return None
            async for batch in generation.batches():
                assembler.consume(batch)
            await finish(assembler)
            return json(assembler.response)
        finally:
            await generation.close()
    finally:
        metrics.IN_FLIGHT.dec()
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
