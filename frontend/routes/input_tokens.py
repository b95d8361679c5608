"""`POST /v1/responses/input_tokens`: how many tokens a create request's prompt would take.

Thin: the body becomes the create request it describes, which goes through the same checks
and translation as a real one (history from `previous_response_id`, instructions, tools,
the chat template's arguments); the sidecar's tokenizer counts the rendered prompt
(COUNT_TOKENS), so the answer is the `input_tokens` that create would report.
"""

from __future__ import annotations

from functools import partial

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from inference.protocol import CountTokens, Handshake, TokenCount, ToolChoice

from .. import history, translate
from ..context import allowed_models, of, tenant_of
from ..errors import ServiceUnavailable, Unsupported
from ..openai.parse import parse_body
from ..openai.request import CreateResponse, InputTokensRequest

bp = Blueprint("input_tokens", url_prefix="/v1")


@bp.post("/responses/input_tokens")
async def count_input_tokens(request: Request) -> HTTPResponse:
    body = parse_body(InputTokensRequest, request.json)
    if body.personality is not None:
        raise Unsupported("personality is not supported by this server.", param="personality")
    ctx = of(request)
    handshake = ctx.handshake()
    model = ctx.resolve_model(body.model, allowed_models(request))  # None: the first
    fields = body.model_dump(exclude_none=True, exclude={"model", "personality"}, by_alias=True)
    create = CreateResponse.model_validate({**fields, "model": model})
    counted = await prompt_tokens(request, create, handshake)
    return json({"object": "response.input_tokens", "input_tokens": counted.tokens})


async def prompt_tokens(
    request: Request, create: CreateResponse, handshake: Handshake
) -> TokenCount:
    """The sidecar's count of the prompt `create` would send (its history, instructions,
    tools, template arguments); the rate-limit layer counts a create's input with it too."""
    ctx = of(request)
    tenant = tenant_of(request)
    messages = await history.conversation(ctx.store, tenant, create.previous_response_id)
    sealer = ctx.sealer
    unseal = partial(sealer.open, tenant=tenant) if sealer else None
    messages += translate.input_messages(create, unseal)
    generate = translate.generate_request(
        create,
        messages,
        request_id="input_tokens",
        handshake=handshake,
        sealing=bool(sealer),
        hosted_tools=request.app.config.HOSTED_TOOLS,
    )
    if ctx.sidecar is None:
        raise ServiceUnavailable("The inference sidecar is not ready; retry shortly.")
    return await ctx.sidecar.count_tokens(
        CountTokens(
            messages=generate.messages,
            tools=generate.tools if generate.tool_choice != ToolChoice.NONE else [],
            chat_template_kwargs=generate.chat_template_kwargs,
        )
    )
