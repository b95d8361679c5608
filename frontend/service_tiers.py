"""Service tiers: which `service_tier` values a request may ask for, and what each one means
for vLLM's priority scheduler.

Owns the tier policy (PORTICO_DEFAULT_SERVICE_TIER, PORTICO_ALLOWED_SERVICE_TIERS), the
mapping of a tier onto the engine priority, and the tier a Response echoes.

- A request without `service_tier` gets the default tier; `auto` means the default tier too
  (OpenAI's "the tier configured in the Project settings"), and the default `auto` is the
  `default` tier. A tier outside the allowed ones is a 400 (param `service_tier`) that lists
  them; the default must itself be allowed (checked at start).
- vLLM runs lower priority values first. The tier is the first key and the native
  `priority` extension the second: engine priority = CLASS[tier] * BAND + priority, with
  the native value saturated to ±BAND/2, so a native priority orders requests within their
  tier and never lifts one above a better tier (an allowlist without `priority` cannot be
  bypassed by a native value). Classes: `ultrafast` -2; `priority` and `fast` -1 (OpenAI
  answers `priority` for both); `default`, `auto` and `scale` 0; `flex` 1. Scale Tier is
  capacity reserved in advance at OpenAI; on your own GPUs all capacity is yours, so
  `scale` is served, and echoed, as `default`.
- vLLM refuses a non-zero priority unless its engine runs `--scheduling-policy priority`;
  the sidecar says in its handshake whether it does. Without it every request is served as
  `default` (echoed so) and the native `priority` passes unchanged (vLLM refuses a non-zero
  one, as it always did).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inference.protocol import Handshake

from .errors import InvalidRequest

# Every value OpenAI's spec lists for the Responses `service_tier` (ServiceTierResponses).
SERVICE_TIERS: tuple[str, ...] = (
    "auto",
    "default",
    "flex",
    "scale",
    "priority",
    "fast",
    "ultrafast",
)
# The scheduling class of each tier (lower runs first), and the tier each class is echoed as.
CLASS: dict[str, int] = {
    "ultrafast": -2,
    "priority": -1,
    "fast": -1,
    "auto": 0,
    "default": 0,
    "scale": 0,
    "flex": 1,
}
ECHO: dict[int, str] = {-2: "ultrafast", -1: "priority", 0: "default", 1: "flex"}
BAND = 2**32  # engine priorities per class; a native priority is kept within ±BAND/2
NATIVE_MIN, NATIVE_MAX = -(BAND // 2), BAND // 2 - 1


def check_tier(text: str) -> None:
    """A Setting check: one known tier (ValueError completes "<flag> ...")."""
    if text not in SERVICE_TIERS:
        raise ValueError(f"expects one of {', '.join(SERVICE_TIERS)}, not {text!r}")


def parse_tiers(text: str) -> tuple[str, ...]:
    """The comma-separated allowed tiers, in order, without repeats or blanks."""
    return tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def check_tiers(text: str) -> None:
    """A Setting check: a non-empty comma-separated list of known tiers."""
    tiers = parse_tiers(text)
    if not tiers:
        raise ValueError("expects a comma-separated list of service tiers")
    unknown = [t for t in tiers if t not in SERVICE_TIERS]
    if unknown:
        raise ValueError(
            f"expects service tiers among {', '.join(SERVICE_TIERS)}, not {unknown[0]!r}"
        )


@dataclass(frozen=True)
class TierPolicy:
    default: str = "auto"
    allowed: tuple[str, ...] = SERVICE_TIERS

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> TierPolicy:
        """From the settings (a PorticoConfig, or the launcher's values by name)."""
        return cls(
            default=str(values["DEFAULT_SERVICE_TIER"]),
            allowed=parse_tiers(str(values["ALLOWED_SERVICE_TIERS"])),
        )

    def check(self) -> None:
        """ValueError when the default tier is not allowed (a start-up mistake)."""
        if self.default not in self.allowed:
            raise ValueError(
                f"the default service tier {self.default!r} is not among the allowed ones "
                f"({','.join(self.allowed)})"
            )


@dataclass(frozen=True)
class ServiceTier:
    """The tier one request is served at: `name` as asked (or the default), `served` as the
    Response echoes it, `rank` its scheduling class, `scheduling` whether the engine
    schedules by priority at all (the sidecar's handshake)."""

    name: str
    served: str
    rank: int
    scheduling: bool

    def engine_priority(self, native: int | None) -> int:
        """vLLM's priority for this tier and the request's native `priority` field."""
        if not self.scheduling:
            return native or 0  # as it always was: vLLM refuses a non-zero one
        return self.rank * BAND + min(max(native or 0, NATIVE_MIN), NATIVE_MAX)


def resolve(requested: str | None, policy: TierPolicy, *, scheduling: bool) -> ServiceTier:
    """The tier a request is served at; 400 (param `service_tier`) for one not allowed.
    `scheduling`: whether the engine schedules by priority (the sidecar's handshake)."""
    if requested is not None and requested not in policy.allowed:
        raise InvalidRequest(
            f"service_tier '{requested}' is not allowed on this server; allowed: "
            f"{', '.join(policy.allowed)}.",
            param="service_tier",
            code="unsupported_value",
        )
    name = requested if requested is not None and requested != "auto" else policy.default
    rank = CLASS[name] if scheduling else 0
    return ServiceTier(name=name, served=ECHO[rank], rank=rank, scheduling=scheduling)


def for_request(
    requested: str | None, settings: Mapping[str, Any], handshake: Handshake
) -> ServiceTier:
    """The tier of a request under the server's settings and its sidecar's scheduling."""
    policy = TierPolicy.from_values(settings)
    return resolve(requested, policy, scheduling=handshake.priority_scheduling)
