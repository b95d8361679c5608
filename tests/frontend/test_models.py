"""`/v1/models`: vLLM's `max_model_len` in native mode, only OpenAI's fields in compatibility."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests import spec
from tests.sdk import extra_field
from tests.stack import Stack

MODEL = "fake-model"
CONTEXT = 4096  # the fake engine's max_model_len
OPENAI_FIELDS = {"id", "object", "created", "owned_by"}


def test_native_list_reports_max_model_len(fake_stack: Stack) -> None:
    body = httpx.get(fake_stack.url("/v1/models")).json()
    spec.validate_models_list(body)
    assert [(m["id"], m["max_model_len"]) for m in body["data"]] == [(MODEL, CONTEXT)]
    assert set(body["data"][0]) == {*OPENAI_FIELDS, "max_model_len"}


def test_native_retrieve_reports_max_model_len(fake_stack: Stack) -> None:
    body = httpx.get(fake_stack.url(f"/v1/models/{MODEL}")).json()
    spec.validate(body, "Model")
    assert body["max_model_len"] == CONTEXT
    model = fake_stack.openai().models.retrieve(MODEL)
    assert extra_field(model, "max_model_len") == CONTEXT


def test_compatibility_mode_sends_only_openai_fields(compat_stack: Stack) -> None:
    body = httpx.get(compat_stack.url("/v1/models")).json()
    spec.validate_models_list(body)
    assert [m["id"] for m in body["data"]] == [MODEL]
    assert all(set(m) == OPENAI_FIELDS for m in body["data"])
    one = httpx.get(compat_stack.url(f"/v1/models/{MODEL}")).json()
    spec.validate(one, "Model")
    assert set(one) == OPENAI_FIELDS


@pytest.fixture(scope="module")
def alias_stack() -> Iterator[Stack]:
    stack = Stack("--fake", env={"PORTICO_SERVED_MODEL_NAME": "alias"}).start()
    yield stack
    stack.stop()


def test_extra_served_name_has_the_same_max_model_len(alias_stack: Stack) -> None:
    body = httpx.get(alias_stack.url("/v1/models")).json()
    spec.validate_models_list(body)
    assert {m["id"]: m["max_model_len"] for m in body["data"]} == {
        "alias": CONTEXT,
        MODEL: CONTEXT,
    }
    assert httpx.get(alias_stack.url("/v1/models/alias")).json()["max_model_len"] == CONTEXT
