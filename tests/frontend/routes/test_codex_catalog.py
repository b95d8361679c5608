"""`GET /v1/codex/models`: Codex CLI's model catalog built from the sidecar's handshake
(frontend/codex_catalog.py); tests/clients/test_codex.py checks that Codex decodes it."""

from __future__ import annotations

import httpx

from frontend.codex_catalog import INSTRUCTIONS, catalog, model_info
from inference.protocol import Handshake
from tests import spec
from tests.stack import Stack

# The fields Codex 0.171.0 requires of each entry (without one it drops the whole catalog).
REQUIRED = {
    "slug",
    "display_name",
    "supported_reasoning_levels",
    "shell_type",
    "visibility",
    "supported_in_api",
    "priority",
    "base_instructions",
    "support_verbosity",
    "truncation_policy",
    "experimental_supported_tools",
}


def test_catalog_lists_the_served_model_with_its_context(fake_stack: Stack) -> None:
    # Codex adds ?client_version=...; the answer does not depend on it.
    response = httpx.get(fake_stack.url("/v1/codex/models?client_version=0.171.0"))
    assert response.status_code == 200
    [model] = response.json()["models"]
    assert set(model) >= REQUIRED
    assert model["slug"] == model["display_name"] == "fake-model"
    assert model["context_window"] == 4096  # the fake engine's max_model_len
    assert model["shell_type"] == "unified_exec"  # the fake sidecar runs a tool parser
    assert model["supported_reasoning_levels"] == [] and "default_reasoning_level" not in model
    assert model["supports_reasoning_summaries"] is False
    assert model["base_instructions"] == INSTRUCTIONS
    assert model["truncation_policy"] == {"mode": "tokens", "limit": 1024}
    assert model["input_modalities"] == ["text"]
    assert httpx.get(fake_stack.url("/v1/codex/models")).json() == response.json()


def test_catalog_offers_reasoning_levels_with_a_reasoning_parser(reasoning_stack: Stack) -> None:
    [model] = httpx.get(reasoning_stack.url("/v1/codex/models")).json()["models"]
    efforts = [level["effort"] for level in model["supported_reasoning_levels"]]
    assert efforts == ["low", "medium", "high"]
    assert model["default_reasoning_level"] == "medium"
    assert model["supports_reasoning_summaries"] is True


def test_catalog_is_native_only(compat_stack: Stack) -> None:
    response = httpx.get(compat_stack.url("/v1/codex/models"))
    assert response.status_code == 404
    spec.validate_error(response.json())
    assert httpx.get(compat_stack.url("/v1/models")).status_code == 200


def test_model_without_tool_parser_has_no_shell_and_a_small_model_short_tool_output() -> None:
    handshake = Handshake(protocol_version=1, model_names=["m"], max_model_len=2048)
    info = model_info("m", handshake)
    assert info["shell_type"] == "disabled"
    assert info["truncation_policy"]["limit"] == 512
    big = Handshake(protocol_version=1, model_names=["m"], max_model_len=131072)
    assert model_info("m", big)["truncation_policy"]["limit"] == 10_000


def test_catalog_keeps_the_served_order_as_priority() -> None:
    handshake = Handshake(protocol_version=1, model_names=["a", "b"], max_model_len=8192)
    models = catalog(["a", "b"], handshake)["models"]
    assert [(m["slug"], m["priority"]) for m in models] == [("a", 0), ("b", 1)]
