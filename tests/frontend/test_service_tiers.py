"""Service tiers (frontend/service_tiers.py): the settings and their start-up check, the
allowlist (400 naming `service_tier`), the engine priority a tier and the native `priority`
make together, the tier a Response echoes, in-process (scripted sidecar) and through the
SDK on the fake stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from frontend import service_tiers
from frontend.config import BY_FLAG, DEFAULTS, NOT_BUILT, PorticoConfig, SettingError
from frontend.service_tiers import BAND, SERVICE_TIERS, TierPolicy, resolve
from launcher.flags import FlagError, parse
from tests import spec
from tests.frontend.routes.test_responses_routes import assert_error, portico, stream_of
from tests.frontend.scripted import make_handshake
from tests.stack import Stack

ALL = ",".join(SERVICE_TIERS)


def test_the_default_allowlist_is_every_tier_of_openais_spec() -> None:
    enum = next(b["enum"] for b in spec.schema("ServiceTierResponses")["anyOf"] if "enum" in b)
    assert set(SERVICE_TIERS) == set(enum)
    assert DEFAULTS["ALLOWED_SERVICE_TIERS"] == ALL
    assert DEFAULTS["DEFAULT_SERVICE_TIER"] == "auto"
    assert "--responses-default-service-tier" not in NOT_BUILT
    assert "--responses-allowed-service-tiers" not in NOT_BUILT


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--responses-default-service-tier", "turbo", "expects one of auto, default"),
        ("--responses-allowed-service-tiers", "default,turbo", "not 'turbo'"),
        ("--responses-allowed-service-tiers", " , ", "expects a comma-separated list"),
    ],
)
def test_bad_tier_settings_are_one_line(flag: str, value: str, message: str) -> None:
    with pytest.raises(SettingError, match=message):
        BY_FLAG[flag].parse(value)
    with pytest.raises(FlagError, match=message):
        parse(["--fake", flag, value], environ={})


def test_the_default_tier_must_be_allowed() -> None:
    with pytest.raises(SettingError, match="'flex' is not among the allowed ones"):
        PorticoConfig(DEFAULT_SERVICE_TIER="flex", ALLOWED_SERVICE_TIERS="auto,default")
    argv = ["--fake", "--responses-allowed-service-tiers", "default,priority"]
    with pytest.raises(FlagError, match="'auto' is not among the allowed ones"):
        parse(argv, environ={})
    env = {"PORTICO_DEFAULT_SERVICE_TIER": "priority"}  # a variable counts as the flag would
    launch = parse(argv, environ=env)
    assert launch.frontend_env["PORTICO_ALLOWED_SERVICE_TIERS"] == "default,priority"
    PorticoConfig(DEFAULT_SERVICE_TIER="priority", ALLOWED_SERVICE_TIERS="default,priority")


def test_a_tier_maps_to_an_engine_priority_class() -> None:
    policy = TierPolicy()

    def priority(tier: str | None, native: int | None = None) -> tuple[str, int]:
        served = resolve(tier, policy, scheduling=True)
        return served.served, served.engine_priority(native)

    assert priority(None) == priority("auto") == priority("default") == ("default", 0)
    assert priority("scale") == ("default", 0)
    assert priority("priority") == priority("fast") == ("priority", -BAND)
    assert priority("ultrafast") == ("ultrafast", -2 * BAND)
    assert priority("flex") == ("flex", BAND)
    # the native priority orders requests within their tier, never across tiers
    assert priority("default", 7) == ("default", 7)
    assert priority("flex", -(2**63))[1] > priority("default", 2**63 - 1)[1]
    assert priority("default", -(2**63))[1] > priority("priority", 2**63 - 1)[1]
    assert priority("flex", -5)[1] < priority("flex", 5)[1]


def test_without_priority_scheduling_every_tier_is_served_as_default() -> None:
    for tier in SERVICE_TIERS:
        served = resolve(tier, TierPolicy(), scheduling=False)
        assert (served.served, served.engine_priority(None)) == ("default", 0)
    # the native field passes as it always did (vLLM refuses a non-zero one itself)
    assert resolve("flex", TierPolicy(), scheduling=False).engine_priority(3) == 3


def test_auto_and_absent_take_the_configured_default() -> None:
    policy = TierPolicy(default="flex", allowed=("flex", "auto"))
    assert resolve(None, policy, scheduling=True).served == "flex"
    assert resolve("auto", policy, scheduling=True).served == "flex"
    with pytest.raises(service_tiers.InvalidRequest) as caught:
        resolve("default", policy, scheduling=True)
    error = caught.value
    assert (error.status, error.type, error.param) == (400, "invalid_request_error", "service_tier")
    assert "flex, auto" in error.message


# --- in-process: the route, the sidecar request, the Response -----------------------------


def scheduled(**config: Any) -> Any:
    p = portico(**config)
    p.client.handshake = make_handshake(priority_scheduling=True)
    return p


@pytest.mark.parametrize(
    ("tier", "served", "priority"),
    [
        (None, "default", 0),
        ("auto", "default", 0),
        ("flex", "flex", BAND),
        ("priority", "priority", -BAND),
        ("fast", "priority", -BAND),
        ("scale", "default", 0),
    ],
)
async def test_the_tier_reaches_the_sidecar_and_the_response(
    tier: str | None, served: str, priority: int
) -> None:
    p = scheduled()
    body = {} if tier is None else {"service_tier": tier}
    reply = await p.create(input="hi", **body)
    assert reply.status_code == 200, reply.text
    spec.validate_response(reply.json())
    assert reply.json()["service_tier"] == served
    assert p.client.requests[-1].priority == priority
    stream = stream_of(await scheduled().create(input="hi", stream=True, **body))
    assert {e["response"]["service_tier"] for e in stream.events if "response" in e} == {served}


async def test_native_priority_orders_within_the_tier() -> None:
    p = scheduled()
    assert (await p.create(input="hi", service_tier="flex", priority=-3)).status_code == 200
    assert p.client.requests[-1].priority == BAND - 3


async def test_a_tier_outside_the_allowlist_is_400_listing_the_allowed_ones() -> None:
    p = scheduled(ALLOWED_SERVICE_TIERS="auto,default,flex")
    reply = await p.create(input="hi", service_tier="priority")
    error = assert_error(reply, 400, "unsupported_value", "service_tier")
    assert "auto, default, flex" in error["message"]
    assert p.client.requests == []  # nothing reached the sidecar
    p = scheduled(ALLOWED_SERVICE_TIERS="auto,default,flex")
    assert (await p.create(input="hi", service_tier="flex")).json()["service_tier"] == "flex"


async def test_the_configured_default_tier_applies() -> None:
    p = scheduled(DEFAULT_SERVICE_TIER="flex")
    reply = await p.create(input="hi")
    assert reply.json()["service_tier"] == "flex"
    assert p.client.requests[-1].priority == BAND


# --- the SDK on the fake stack --------------------------------------------------------------


@pytest.fixture(scope="module")
def tiers_stack() -> Iterator[Stack]:
    stack = Stack(
        "--fake",
        "--responses-allowed-service-tiers",
        "auto,default,flex",
        "--responses-default-service-tier",
        "default",
    ).start()
    yield stack
    stack.stop()


def test_sdk_allowed_and_refused_tiers(tiers_stack: Stack) -> None:
    client = tiers_stack.openai()
    response = client.responses.create(model="fake-model", input="hi", service_tier="flex")
    assert response.service_tier == "default"  # the fake engine has no priority scheduling
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="fake-model", input="hi", service_tier="priority")
    assert caught.value.param == "service_tier"
    assert "auto, default, flex" in caught.value.message
    raw = httpx.post(
        tiers_stack.url("/v1/responses"),
        json={"model": "fake-model", "input": "hi", "service_tier": "ultrafast"},
    )
    assert raw.status_code == 400
    spec.validate_error(raw.json())
    assert raw.json()["error"]["param"] == "service_tier"
