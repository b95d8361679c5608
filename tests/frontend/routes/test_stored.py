"""Stored responses in-process (routes/stored.py): retrieve with `include[]`, delete,
`input_items` and its pages, cancel, conversations rebuilt from their chain, and tenants.

The real app with the scripted sidecar (test_responses_routes.py's `portico`); a test
middleware sets `request.ctx.tenant` from a header, as the auth layer will.
"""

from __future__ import annotations

from typing import Any

from sanic import Request

from frontend.store import StoredResponse, StoreUnavailable
from inference.protocol import Role
from tests import spec
from tests.frontend.routes.test_responses_routes import Portico, Reply, assert_error, portico
from tests.frontend.scripted import reply

TENANT = "X-Test-Tenant"


def tenanted(p: Portico) -> Portico:
    async def tenant(request: Request) -> None:
        request.ctx.tenant = request.headers.get(TENANT, "")

    p.app.register_middleware(tenant, "request")
    return p


async def get(p: Portico, path: str, tenant: str = "", **params: Any) -> Reply:
    return await p.request("GET", path, params=params, headers={TENANT: tenant})


def valid_list(reply: Reply) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    spec.validate(body, "ResponseItemList")
    for item in body["data"]:
        spec.validate_open_responses(item, "ItemField")
    return body


MIXED_INPUT = [
    {"role": "developer", "content": "Be terse."},
    {"role": "user", "content": [{"type": "input_text", "text": "What is 2+2?"}]},
    {"type": "function_call", "call_id": "call_1", "name": "add", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "call_1", "output": "4"},
    {"role": "assistant", "content": "It is 4.", "id": "msg_given"},
    {"role": "user", "content": "Thanks!"},
]


# --- retrieve and include -----------------------------------------------------------------


async def test_retrieve_validates_include_like_create() -> None:
    p = portico()
    body = (await p.create(input="hi", include=["message.output_text.logprobs"])).json()
    path = f"/v1/responses/{body['id']}"
    for key in ("include[]", "include"):
        found = await p.request("GET", path, params={key: "message.output_text.logprobs"})
        assert found.status_code == 200, found.text
        spec.validate_response(found.json())
        assert found.json() == body
    bad = await p.request("GET", path, params={"include[]": ["message.output_text.logprobs", "x"]})
    error = assert_error(bad, 400, "invalid_value", "include[1]")  # not in OpenAI's list
    assert "'x'" in error["message"]
    streamed = await p.request("GET", path, params={"stream": "true"})
    error = assert_error(streamed, 400, "invalid_value", "stream")
    assert "background=true" in error["message"]
    assert (await p.request("GET", path, params={"stream": "false"})).status_code == 200


async def test_a_store_that_is_away_is_503() -> None:
    p = portico()

    async def away(tenant: str, response_id: str) -> StoredResponse | None:
        raise StoreUnavailable("The response store is unreachable; retry shortly.")

    p.store.get = away  # type: ignore[method-assign]
    answer = await p.request("GET", "/v1/responses/resp_1")
    assert_error(answer, 503, "service_unavailable")
    assert answer.headers["Retry-After"] == "5"


# --- input items ---------------------------------------------------------------------------


async def test_input_items_are_the_request_items_with_ids() -> None:
    p = portico()
    created = (await p.create(input=MIXED_INPUT, instructions="Not an item.")).json()
    body = valid_list(await p.request("GET", f"/v1/responses/{created['id']}/input_items"))
    items = body["data"][::-1]  # desc by default: newest first
    assert [i["type"] for i in items] == [
        "message",
        "message",
        "function_call",
        "function_call_output",
        "message",
        "message",
    ]
    assert [i.get("role") for i in items] == [
        "developer",
        "user",
        None,
        None,
        "assistant",
        "user",
    ]
    assert items[0]["content"] == [{"type": "input_text", "text": "Be terse."}]
    assert items[4]["id"] == "msg_given"
    assert items[4]["content"] == [
        {"type": "output_text", "text": "It is 4.", "annotations": [], "logprobs": []}
    ]
    assert items[3]["output"] == "4" and items[2]["call_id"] == "call_1"
    ids = [i["id"] for i in items]
    assert len(set(ids)) == 6 and all(i["status"] == "completed" for i in items)
    assert (body["first_id"], body["last_id"], body["has_more"]) == (ids[-1], ids[0], False)


async def test_a_string_input_is_one_user_message() -> None:
    p = portico()
    created = (await p.create(input="Hello")).json()
    body = valid_list(await p.request("GET", f"/v1/responses/{created['id']}/input_items"))
    [item] = body["data"]
    assert (item["role"], item["content"]) == ("user", [{"type": "input_text", "text": "Hello"}])
    assert item["id"].startswith("msg_")


async def test_input_items_page_with_limit_order_after_and_before() -> None:
    p = portico()
    created = (await p.create(input=MIXED_INPUT)).json()
    path = f"/v1/responses/{created['id']}/input_items"
    every = valid_list(await p.request("GET", path, params={"order": "asc"}))["data"]
    ids = [i["id"] for i in every]

    async def page(**params: Any) -> tuple[list[str], bool]:
        body = valid_list(await p.request("GET", path, params=params))
        got = [i["id"] for i in body["data"]]
        if got:
            assert (body["first_id"], body["last_id"]) == (got[0], got[-1])
        return got, body["has_more"]

    assert await page(order="asc", limit=2) == (ids[:2], True)
    assert await page(order="asc", limit=2, after=ids[1]) == (ids[2:4], True)
    assert await page(order="asc", limit=2, after=ids[3]) == (ids[4:], False)
    assert await page(order="desc", limit=4) == (ids[::-1][:4], True)
    assert await page(order="desc", after=ids[2]) == (ids[1::-1], False)
    assert await page(order="asc", limit=2, before=ids[4]) == (ids[2:4], True)  # nearest
    assert await page(order="asc", after=ids[0], before=ids[3]) == (ids[1:3], False)
    assert await page(order="asc", after=ids[5]) == ([], False)


async def test_input_items_refuse_bad_queries() -> None:
    p = portico()
    created = (await p.create(input="hi")).json()
    path = f"/v1/responses/{created['id']}/input_items"
    for params, code, param in (
        ({"limit": "0"}, "invalid_value", "limit"),
        ({"limit": "101"}, "invalid_value", "limit"),
        ({"limit": "ten"}, "invalid_type", "limit"),
        ({"order": "up"}, "invalid_value", "order"),
        ({"after": "msg_nope"}, "invalid_value", "after"),
        ({"before": "msg_nope"}, "invalid_value", "before"),
        ({"include[]": "file_search_call.results"}, "unsupported_parameter", "include[0]"),
    ):
        assert_error(await p.request("GET", path, params=params), 400, code, param)
    assert valid_list(await p.request("GET", path, params={"limit": "100"}))["data"]
    missing = await p.request("GET", "/v1/responses/resp_nope/input_items")
    assert_error(missing, 404, "not_found", "response_id")


# --- cancel --------------------------------------------------------------------------------


async def test_cancel_is_for_background_responses_only() -> None:
    p = portico()
    created = (await p.create(input="hi")).json()
    answer = await p.request("POST", f"/v1/responses/{created['id']}/cancel")
    error = assert_error(answer, 400, None)
    assert error["message"] == "Only responses created with background=true can be cancelled."
    missing = await p.request("POST", "/v1/responses/resp_nope/cancel")
    assert_error(missing, 404, "not_found", "response_id")


# --- conversations ---------------------------------------------------------------------------


async def test_a_chain_is_stored_a_turn_at_a_time_and_rebuilt() -> None:
    p = portico(reply("A1."), reply("A2."), reply("A3."))
    first = (await p.create(input="Q1", instructions="Sys.")).json()
    second = (await p.create(input="Q2", previous_response_id=first["id"])).json()
    third = await p.create(input="Q3", previous_response_id=second["id"])
    assert third.status_code == 200, third.text
    assert [(m.role, m.content) for m in p.client.requests[2].messages] == [
        (Role.USER, "Q1"),
        (Role.ASSISTANT, "A1."),
        (Role.USER, "Q2"),
        (Role.ASSISTANT, "A2."),
        (Role.USER, "Q3"),
    ]
    stored = await p.store.get("", third.json()["id"])
    assert stored is not None
    assert [m.content for m in stored.messages] == ["Q3"]  # its own turn, no copy of the rest
    items = valid_list(await p.request("GET", f"/v1/responses/{third.json()['id']}/input_items"))
    assert [i["content"][0]["text"] for i in items["data"]] == ["Q3"]


async def test_a_missing_ancestor_is_previous_response_not_found() -> None:
    p = portico()
    first = (await p.create(input="Q1")).json()
    second = (await p.create(input="Q2", previous_response_id=first["id"])).json()
    assert (await p.request("DELETE", f"/v1/responses/{first['id']}")).status_code == 200
    answer = await p.create(input="Q3", previous_response_id=second["id"])
    error = assert_error(answer, 404, "previous_response_not_found", "previous_response_id")
    assert first["id"] in error["message"] and second["id"] in error["message"]
    assert len(p.client.requests) == 2  # refused before the sidecar


# --- tenants ---------------------------------------------------------------------------------


async def test_another_tenant_gets_404_everywhere() -> None:
    p = tenanted(portico())
    created = await p.request(
        "POST",
        "/v1/responses",
        json={"model": "scripted-model", "input": "alice's"},
        headers={TENANT: "alice"},
    )
    rid = created.json()["id"]
    bob = {TENANT: "bob"}
    for method, path in (
        ("GET", f"/v1/responses/{rid}"),
        ("GET", f"/v1/responses/{rid}/input_items"),
        ("POST", f"/v1/responses/{rid}/cancel"),
        ("DELETE", f"/v1/responses/{rid}"),
    ):
        assert_error(await p.request(method, path, headers=bob), 404, "not_found", "response_id")
    follow = await p.request(
        "POST",
        "/v1/responses",
        json={"model": "scripted-model", "input": "x", "previous_response_id": rid},
        headers=bob,
    )
    assert_error(follow, 404, "previous_response_not_found", "previous_response_id")
    counted = await p.request(
        "POST",
        "/v1/responses/input_tokens",
        json={"input": "x", "previous_response_id": rid},
        headers=bob,
    )
    assert_error(counted, 404, "previous_response_not_found", "previous_response_id")
    mine = await p.request("GET", f"/v1/responses/{rid}", headers={TENANT: "alice"})
    assert mine.status_code == 200 and mine.json()["id"] == rid
