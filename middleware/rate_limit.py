"""Rate limits per API key (frontend/rate_limits.py) on the routes that generate.

Before the handler: one check of the key's buckets (one Lua script on Redis), taking a
request and the tokens reserved for it; a refusal is OpenAI's 429 (type `requests` or
`tokens`, Retry-After, retry-after-ms) and counts in portico_rate_limit_rejections_total.
The decision goes on `request.ctx.rate_limit`, its figures on `request.ctx.rate_limits` (a
native stream's `response.rate_limits.updated` event), and the reservation on
`request.ctx.token_reservation`, which the route's run reconciles when it ends.

After the handler (JSON, SSE, errors alike): the `x-ratelimit-*` headers; a request that
failed before it generated (any 4xx/5xx answer not settled by its run) gets its tokens back.

A key without limits costs nothing here. If the rate-limit store (Redis) fails, the request
goes through unlimited and the failure is logged: limits never take the service down.
"""

from __future__ import annotations

import logging

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from frontend import metrics, rate_limits
from frontend.context import of
from frontend.store.base import StoreUnavailable
from frontend.store.limits import Charge, open_limiter

log = logging.getLogger("portico.limits")
TOOL_OUTPUTS = "/tool_outputs"  # continuing a response generates too (native mode)


def limited(request: Request) -> tuple[bool, bool]:
    """(the route is rate limited, it creates a response): creates, of every dialect, and
    tool-output continuations."""
    route = request.route
    if route is None or request.method != "POST":
        return False, False
    creates = bool(getattr(route.ctx, "creates_response", False))
    return creates or route.path.endswith(TOOL_OUTPUTS), creates


async def check(request: Request) -> None:
    applies, creates = limited(request)
    if not applies or not request.body:
        # no body: refused before it can generate (a 400 from the route, or the 413 of an
        # oversized body, whose error response runs this middleware too): nothing to charge
        return
    limiter = of(request).limiter
    policy = rate_limits.policy_of(request)
    if limiter is None or not policy.active:
        return
    charges: list[Charge] = []
    if policy.requests_per_minute:
        charges.append(Charge(rate_limits.REQUESTS, policy.requests_per_minute))
    reserved = 0
    if policy.tokens_per_minute:
        if creates:  # a continuation reserves nothing; its tokens are not known beforehand
            reserved = rate_limits.token_cost(request, policy.tokens_per_minute)
        charges.append(Charge(rate_limits.TOKENS, policy.tokens_per_minute, reserved))
    try:
        decision = await limiter.take(policy.key, charges)
    except StoreUnavailable:
        log.warning("a request went through unlimited: the rate-limit store failed")
        return
    request.ctx.rate_limit = decision
    request.ctx.rate_limits = rate_limits.stream_figures(decision)
    if not decision.allowed:
        metrics.RATE_LIMIT_REJECTIONS.labels(decision.rejected or "").inc()
        raise rate_limits.refusal(decision, charges)
    if reserved:
        request.ctx.token_reservation = rate_limits.Reservation(
            limiter, policy.key, policy.tokens_per_minute, reserved
        )


async def tell(request: Request, response: BaseHTTPResponse) -> None:
    decision = getattr(request.ctx, "rate_limit", None)
    if decision is not None:
        response.headers.update(rate_limits.headers(decision))
    reservation = getattr(request.ctx, "token_reservation", None)
    if reservation is not None and response.status >= 400:
        await reservation.settle(0)  # nothing ran (a run that did has settled it already)


def register(app: Sanic) -> None:
    async def open_counters(app: Sanic) -> None:
        if app.ctx.limiter is None:  # kept when the same app serves again (tests' ASGI)
            app.ctx.limiter = open_limiter(app.config.STORE_URL)

    async def close_counters(app: Sanic) -> None:
        if app.ctx.limiter is not None:
            await app.ctx.limiter.close()  # a Redis client reconnects if it serves again

    app.register_listener(open_counters, "before_server_start")
    app.register_listener(close_counters, "after_server_stop")
    # after auth (the key's limits) and the Azure dialect (the body's model), before the
    # compatibility filter: the design order
    app.register_middleware(check, "request", priority=81)
    app.register_middleware(tell, "response", priority=81)
