"""Rate limits per API key: which limits a request has, what it costs, what the client is told.

Owns the policy of docs/rate-limits.md; the counters are frontend/store/limits.py and the
layer that applies it is middleware/rate_limit.py.

- Limits: a key's `requests_per_minute` / `tokens_per_minute` from the key file
  (`request.ctx.api_key`, middleware/auth.py), else PORTICO_RATE_LIMIT_RPM / _TPM; 0 is
  unlimited. Without a key every request shares the bucket of tenant "".
- Cost: one request; tokens = the input estimated as OpenAI estimates it for its limits (a
  token per 4 bytes of the body: no tokenization on the request path) plus the output
  reserved: `max_output_tokens`, or when unset the rest of the context up to
  DEFAULT_OUTPUT_RESERVE (and never more than the whole limit, so such a request can always
  run once the bucket is full). When the run ends, the reservation is reconciled with the
  real usage, the sidecar's count (`LimitObserver`): unused tokens go back, extra ones are
  charged.
- Told: OpenAI's `x-ratelimit-*` headers, a 429 whose type is `requests` or `tokens` with
  Retry-After and retry-after-ms, and `request.ctx.rate_limits` for native streams'
  `response.rate_limits.updated` event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sanic import Request

from .context import of, tenant_of
from .errors import RateLimitExceeded
from .run import ResponseRun, RunObserver
from .store.base import StoreUnavailable
from .store.limits import Charge, Decision, Limiter

log = logging.getLogger("portico.limits")
REQUESTS, TOKENS = "requests", "tokens"
DEFAULT_OUTPUT_RESERVE = 4096  # output tokens reserved for a request without max_output_tokens
BYTES_PER_TOKEN = 4  # OpenAI's rule of thumb for the input's share of a reservation
HEADER = "x-ratelimit-{what}-{name}"


@dataclass(frozen=True)
class Policy:
    key: str  # whose buckets: the tenant and the key's name
    requests_per_minute: int  # 0: unlimited
    tokens_per_minute: int

    @property
    def active(self) -> bool:
        return self.requests_per_minute > 0 or self.tokens_per_minute > 0


def _limit(api_key: object, field: str, default: int) -> int:
    value = getattr(api_key, field, None)
    return default if value is None else max(0, int(value))


def policy_of(request: Request) -> Policy:
    """The limits of this request's API key; a key file's value (0 too) wins over the
    default, an absent one (None) takes it."""
    config = request.app.config
    api_key = getattr(request.ctx, "api_key", None)
    tenant = str(getattr(api_key, "tenant", None) or tenant_of(request))
    name = str(getattr(api_key, "name", None) or "")
    return Policy(
        key=f"{tenant}\x00{name}",
        requests_per_minute=_limit(api_key, "requests_per_minute", config.RATE_LIMIT_RPM),
        tokens_per_minute=_limit(api_key, "tokens_per_minute", config.RATE_LIMIT_TPM),
    )


def token_cost(request: Request, limit: int) -> int:
    """The tokens a create request reserves: its input estimated as OpenAI estimates it for
    rate limiting (a token per 4 bytes of the body: no tokenizer round trip on the hot path,
    and the body's tools and instructions count too), plus its output budget. The charge is
    reconciled with the sidecar's own count (the response's usage) when the run ends."""
    body = request.json if isinstance(request.json, dict) else {}
    estimated = max(1, len(request.body) // BYTES_PER_TOKEN)
    asked = body.get("max_output_tokens")
    if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0:
        return estimated + asked
    sidecar = of(request).sidecar
    handshake = sidecar.handshake if sidecar is not None else None
    room = (handshake.max_model_len if handshake else DEFAULT_OUTPUT_RESERVE) - estimated
    return max(estimated, min(estimated + min(max(room, 0), DEFAULT_OUTPUT_RESERVE), limit))


def duration(ms: int) -> str:
    """OpenAI's spelling of a reset time: `20ms`, `1s`, `1.5s`, `6m0s`, `1m30s`, `1h0m0s`."""
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    text = f"{hours}h" if hours else ""
    if hours or minutes:
        text += f"{minutes}m"
    return f"{text}{seconds}s"


def headers(decision: Decision) -> dict[str, str]:
    """The `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers of a decision
    (only for the limits that apply: an unlimited one has none)."""
    out: dict[str, str] = {}
    for bucket in decision.buckets:
        out[HEADER.format(what="limit", name=bucket.name)] = str(bucket.limit)
        out[HEADER.format(what="remaining", name=bucket.name)] = str(bucket.remaining)
        out[HEADER.format(what="reset", name=bucket.name)] = duration(bucket.reset_ms)
    return out


def stream_figures(decision: Decision) -> list[dict[str, Any]]:
    """`request.ctx.rate_limits`: what a native stream's `response.rate_limits.updated`
    event carries (the shape of the Assistants and Realtime APIs' rate_limits)."""
    return [
        {
            "name": b.name,
            "limit": b.limit,
            "remaining": b.remaining,
            "reset_seconds": round(b.reset_ms / 1000, 3),
        }
        for b in decision.buckets
    ]


def refusal(decision: Decision, charges: list[Charge]) -> RateLimitExceeded:
    """The 429 for a refused decision, worded as OpenAI words it."""
    name = decision.rejected or REQUESTS
    charge = next(c for c in charges if c.name == name)
    unit = "RPM" if name == REQUESTS else "TPM"
    if decision.retry_ms < 0:
        return RateLimitExceeded(
            f"Request too large for {name} per min ({unit}): Limit {charge.limit}, Requested "
            f"{charge.cost}. The input or output tokens must be reduced in order to run "
            "successfully.",
            limit=name,
            retry_ms=None,
        )
    bucket = decision.bucket(name)
    used = charge.limit - (bucket.remaining if bucket else 0)
    return RateLimitExceeded(
        f"Rate limit reached for {name} per min ({unit}): Limit {charge.limit}, Used {used}, "
        f"Requested {charge.cost}. Please try again in {duration(decision.retry_ms)}.",
        limit=name,
        retry_ms=decision.retry_ms,
    )


class Reservation:
    """Tokens taken for a request before it ran; settled once with what it really used."""

    def __init__(self, limiter: Limiter, key: str, limit: int, reserved: int) -> None:
        self.limiter = limiter
        self.key = key
        self.limit = limit
        self.reserved = reserved
        self.settled = False

    async def settle(self, used: int | None) -> None:
        """Give back what was not used (or charge what was used beyond it); None: unknown
        (the run left no usage), so the reservation stands."""
        if self.settled:
            return
        self.settled = True
        if used is None or used == self.reserved:
            return
        try:
            await self.limiter.adjust(self.key, TOKENS, self.limit, self.reserved - used)
        except StoreUnavailable:
            log.warning("a token reservation was not reconciled: the rate-limit store failed")


class LimitObserver(RunObserver):
    """Reconciles a request's token reservation with the run's usage when it ends."""

    def __init__(self, reservation: Reservation) -> None:
        self.reservation = reservation

    async def finished(self, run: ResponseRun) -> None:
        usage = run.response.get("usage")
        used = None if usage is None else int(usage["input_tokens"]) + int(usage["output_tokens"])
        await self.reservation.settle(used)


def run_observers(request: Request) -> list[RunObserver]:
    """What a route adds to the observers of the run it opens for `request`."""
    reservation = getattr(request.ctx, "token_reservation", None)
    return [LimitObserver(reservation)] if isinstance(reservation, Reservation) else []
