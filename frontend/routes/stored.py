"""Stored responses: `GET` and `DELETE /v1/responses/{id}`, `GET …/{id}/input_items`,
`POST …/{id}/cancel`.

Thin: read the tenant's entry from the store (another tenant's id is a 404, as a missing
one is), check the query, answer. Every failure is raised and mapped in errors.py.

`input_items` pages through the items of the response's own request, in the order asked
(`desc`, newest first, by default): `after` starts the page after that item, `before` ends
it before that item; with `before` alone the page is the `limit` items nearest to it.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from .. import translate
from ..context import of, tenant_of
from ..errors import InvalidRequest, NotFound, ServiceUnavailable, Unsupported
from ..store import ResponseStore, StoredResponse

bp = Blueprint("stored", url_prefix="/v1")

LIMIT_DEFAULT, LIMIT_MAX = 20, 100
CANCEL_ONLY_BACKGROUND = "Only responses created with background=true can be cancelled."


def _values(request: Request, name: str) -> list[str]:
    """A query parameter's values, spelled `name` or `name[]` (as the SDKs send arrays)."""
    return [*request.args.getlist(name, []), *request.args.getlist(f"{name}[]", [])]


def _one(request: Request, name: str) -> str | None:
    values = _values(request, name)
    if len(values) > 1:
        raise InvalidRequest(f"'{name}' may be given once.", param=name, code="invalid_value")
    return values[0] if values else None


def check_include(request: Request) -> None:
    """`include[]` as the create body's `include` is checked: a value Portico does not
    produce is refused, naming it."""
    for index, value in enumerate(_values(request, "include")):
        if value not in translate.SUPPORTED_INCLUDES:
            raise Unsupported(
                f"include value '{value}' is not supported by this server.",
                param=f"include[{index}]",
            )


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"Response with id '{response_id}' not found.", param="response_id")


def _store(request: Request) -> ResponseStore:
    store = of(request).store
    if store is None:  # the worker has not opened it yet
        raise ServiceUnavailable("The response store is not open yet; retry shortly.")
    return store


async def _entry(request: Request, response_id: str) -> StoredResponse:
    entry = await _store(request).get(tenant_of(request), response_id)
    if entry is None:
        raise _not_found(response_id)
    return entry


@bp.get("/responses/<response_id>")
async def retrieve_response(request: Request, response_id: str) -> HTTPResponse:
    check_include(request)
    stream = (_one(request, "stream") or "false").lower()
    if stream not in ("false", "0"):
        raise Unsupported(
            "Streaming a stored response (stream=true) is not supported by this server.",
            param="stream",
        )
    return json((await _entry(request, response_id)).response)


@bp.delete("/responses/<response_id>")
async def delete_response(request: Request, response_id: str) -> HTTPResponse:
    if not await _store(request).delete(tenant_of(request), response_id):
        raise _not_found(response_id)
    return json({"id": response_id, "object": "response", "deleted": True})


@bp.post("/responses/<response_id>/cancel")
async def cancel_response(request: Request, response_id: str) -> HTTPResponse:
    entry = await _entry(request, response_id)
    if not entry.response.get("background"):
        raise InvalidRequest(CANCEL_ONLY_BACKGROUND)
    return json(entry.response)  # not reached until background runs exist


def _limit(request: Request) -> int:
    text = _one(request, "limit")
    if text is None:
        return LIMIT_DEFAULT
    try:
        limit = int(text)
    except ValueError:
        raise InvalidRequest(
            f"Invalid type for 'limit': expected an integer, but got '{text[:40]}' instead.",
            param="limit",
            code="invalid_type",
        ) from None
    if not 1 <= limit <= LIMIT_MAX:
        raise InvalidRequest(
            f"Invalid value for 'limit': it must be between 1 and {LIMIT_MAX}, not {limit}.",
            param="limit",
            code="invalid_value",
        )
    return limit


def _position(items: list[dict[str, Any]], name: str, item_id: str, response_id: str) -> int:
    for index, item in enumerate(items):
        if item.get("id") == item_id:
            return index
    raise InvalidRequest(
        f"Invalid value for '{name}': response '{response_id}' has no input item '{item_id}'.",
        param=name,
        code="invalid_value",
    )


@bp.get("/responses/<response_id>/input_items")
async def list_input_items(request: Request, response_id: str) -> HTTPResponse:
    check_include(request)
    limit = _limit(request)
    order = _one(request, "order") or "desc"
    if order not in ("asc", "desc"):
        raise InvalidRequest(
            f"Invalid value for 'order': expected 'asc' or 'desc', but got '{order[:40]}'.",
            param="order",
            code="invalid_value",
        )
    after, before = _one(request, "after"), _one(request, "before")
    items = list((await _entry(request, response_id)).input_items)
    if order == "desc":
        items.reverse()
    start, end = 0, len(items)
    if after is not None:
        start = _position(items, "after", after, response_id) + 1
    if before is not None:
        end = _position(items, "before", before, response_id)
    window = items[start:end]
    page = window[-limit:] if before is not None and after is None else window[:limit]
    return json(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else "",
            "last_id": page[-1]["id"] if page else "",
            "has_more": len(window) > len(page),
        }
    )
