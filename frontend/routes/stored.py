"""Stored responses: `GET` (and its resumable stream) and `DELETE /v1/responses/{id}`,
`GET …/{id}/input_items`, `POST …/{id}/cancel` (background runs: background.py).

Thin: read the tenant's entry from the store (another tenant's id is a 404, as a missing
one is), check the query, answer. Every failure is raised and mapped in errors.py.

`input_items` pages through the items of the response's own request, in the order asked
(`desc`, newest first, by default): `after` starts the page after that item, `before` ends
it before that item; with `before` alone the page is the `limit` items nearest to it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from .. import background, extensions, sessions, translate
from ..context import of, tenant_of
from ..errors import InvalidRequest, NotFound, ServiceUnavailable
from ..store import ResponseStore, StoredResponse
from ..store.runlog import RunLog
from ..streaming import replay

bp = Blueprint("stored", url_prefix="/v1")

LIMIT_DEFAULT, LIMIT_MAX = 20, 100
CANCEL_ONLY_BACKGROUND = "Only responses created with background=true can be cancelled."
STREAM_ONLY_BACKGROUND = (
    "Only responses created with background=true can be streamed (stream=true) again."
)
CANCEL_WAIT = 10.0  # seconds the cancel route waits for the run to end


def _values(request: Request, name: str) -> list[str]:
    """A query parameter's values, spelled `name` or `name[]` (as the SDKs send arrays)."""
    return [*request.args.getlist(name, []), *request.args.getlist(f"{name}[]", [])]


def _one(request: Request, name: str) -> str | None:
    values = _values(request, name)
    if len(values) > 1:
        raise InvalidRequest(f"'{name}' may be given once.", param=name, code="invalid_value")
    return values[0] if values else None


def check_include(request: Request) -> None:
    """`include[]` is checked as the create body's `include` is."""
    translate.check_include(_values(request, "include"))


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


def _runlog(request: Request) -> RunLog:
    runlog = of(request).runlog
    if runlog is None:  # the worker has not opened it yet
        raise ServiceUnavailable("The response store is not open yet; retry shortly.")
    return runlog


def _starting_after(request: Request) -> int:
    text = _one(request, "starting_after")
    if text is None:
        return -1
    try:
        after = int(text)
    except ValueError:
        after = -2
    if after < 0:
        raise InvalidRequest(
            f"Invalid value for 'starting_after': expected a sequence number (an integer, "
            f"0 or more), but got '{text[:40]}'.",
            param="starting_after",
            code="invalid_value",
        )
    return after


@bp.get("/responses/<response_id>")
async def retrieve_response(request: Request, response_id: str) -> HTTPResponse | None:
    """The stored response; an unfinished background one whose owner died is marked failed.
    `stream=true`: a background response's events after `starting_after` (replay.py)."""
    check_include(request)
    stream = (_one(request, "stream") or "false").lower()
    if stream not in ("false", "0", "true", "1"):
        raise InvalidRequest(
            f"Invalid value for 'stream': expected true or false, but got '{stream[:40]}'.",
            param="stream",
            code="invalid_value",
        )
    after = _starting_after(request)
    store, runlog, tenant = _store(request), _runlog(request), tenant_of(request)
    entry = await background.settle(store, runlog, tenant, await _entry(request, response_id))
    entry = await sessions.settle(store, tenant, entry, request.app.config.TOOL_TIMEOUT)
    if stream in ("false", "0"):
        return json(entry.response)
    if not entry.response.get("background"):
        raise InvalidRequest(STREAM_ONLY_BACKGROUND, param="stream", code="invalid_value")
    found = await replay.window(runlog, tenant, response_id, after)
    await replay.follow(
        request,
        runlog,
        tenant,
        response_id,
        after,
        found,
        settle=partial(background.alive, store, runlog, tenant, response_id),
        mode=extensions.stream_mode(request),
    )
    return None


@bp.delete("/responses/<response_id>")
async def delete_response(request: Request, response_id: str) -> HTTPResponse:
    if not await _store(request).delete(tenant_of(request), response_id):
        raise _not_found(response_id)
    return json({"id": response_id, "object": "response", "deleted": True})


@bp.post("/responses/<response_id>/cancel")
async def cancel_response(request: Request, response_id: str) -> HTTPResponse:
    """Cancel a background response from any worker or pod, and answer it once it ended
    (`cancelled`, or the status it reached first); a finished one is answered as it is."""
    entry = await _entry(request, response_id)
    if not entry.response.get("background"):
        raise InvalidRequest(CANCEL_ONLY_BACKGROUND)
    store, runlog, tenant = _store(request), _runlog(request), tenant_of(request)
    entry = await background.settle(store, runlog, tenant, entry)
    if entry.response.get("status") in background.UNFINISHED:
        await background.cancel(of(request), tenant, response_id)
        entry = await background.wait_final(store, runlog, tenant, entry, CANCEL_WAIT)
    return json(entry.response)


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
