"""Background runs: `background: true` responses that run to the end with no client attached.

Owns a background run's life in the worker that owns it, and what any worker does about one:

- `launch` stores the response `queued`, logs its `response.created`, takes the lease and
  starts a task; the task starts the generation (a refusal ends the response `failed`),
  stores it `in_progress`, and appends each batch of events to the run log (the terminal
  batch only after the final response is stored, so a reader that sees the end finds it);
- while it runs, the owner refreshes its lease every TICK and looks for a cancel request; a
  request (from any worker or pod) is passed to the sidecar by request id, and the run ends
  `cancelled` with FINAL abort;
- `continue_run`: tool outputs submitted for a background response that waits for them
  (routes/tool_outputs.py) run as a background run too: same lease and cancel, and the
  new round's events go on in the response's run log (reopened), so a resume sees them;
- `settle`: any reader (a GET, a resume, a cancel) that finds an unfinished background
  response without a lease marks it `failed` (its owner died): atomically against the
  owner and other readers, in the run log first, then in the store.

A worker's background tasks are in `PorticoContext.background`. A worker that stops leaves
its runs to the lease: they are marked failed by the next reader within LEASE_TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from inference.protocol import Final, FinishReason

from .context import PorticoContext
from .errors import as_api_error
from .observers import StoreObserver
from .run import UNEXPECTED, ResponseRun, RunObserver
from .store import ResponseStore, StoredResponse
from .store.runlog import APPENDED, RunLog
from .streaming import events as ev
from .streaming import sse

log = logging.getLogger("portico.background")

TICK = 0.5  # seconds between the owner's lease refreshes (each also looks for a cancel)
LEASE_TTL = 5.0  # seconds a lease outlives its last refresh: a dead owner's runs fail by then
UNFINISHED = ("queued", "in_progress")
STOPPED = "The server stopped while running this background response; it was marked failed."
ORPHANED = (
    "The server process running this background response stopped before it finished; "
    "the response was marked failed."
)


def frames(events: list[ev.Event]) -> list[tuple[int, bytes]]:
    """Events as the run log keeps them: (sequence number, SSE frame)."""
    return [(e["sequence_number"], sse.encode([e])) for e in events]


async def launch(
    ctx: PorticoContext,
    run: ResponseRun,
    tenant: str,
    metrics: Callable[[], RunObserver],
) -> dict[str, Any]:
    """Queue `run` (not started yet) and start its task; returns the queued Response."""
    assert ctx.runlog is not None and ctx.sidecar is not None
    runlog, rid = ctx.runlog, run.request.request_id
    keeper = next(o for o in run.observers if isinstance(o, StoreObserver))
    queued = dict(run.response, status="queued")
    await runlog.lease(tenant, rid, LEASE_TTL)
    await keeper.keep(queued)
    await runlog.append(tenant, rid, frames([ev.response_event("created", 0, queued)]))
    task = asyncio.create_task(_drive(ctx, run, tenant, runlog, keeper, metrics))
    ctx.background.add(task)
    task.add_done_callback(ctx.background.discard)
    return queued


async def continue_run(ctx: PorticoContext, run: ResponseRun, tenant: str) -> asyncio.Task[None]:
    """Run the continuation of a background response (tool outputs, routes/tool_outputs.py)
    as a background run: `run` is started, its entry stored in progress under this worker's
    lease (`hold` first). Its log is reopened and its events go on after the last round's, so
    a resume (any worker) follows the new round; leaving does not stop it; cancel works."""
    assert ctx.runlog is not None
    rid = run.request.request_id
    await ctx.runlog.append(tenant, rid, [], reopen=True)
    keeper = next(o for o in run.observers if isinstance(o, StoreObserver))
    task = asyncio.create_task(_drive(ctx, run, tenant, ctx.runlog, keeper, None))
    ctx.background.add(task)
    task.add_done_callback(ctx.background.discard)
    return task


async def hold(ctx: PorticoContext, tenant: str, rid: str) -> None:
    """Take the lease of a background response before it is stored unfinished."""
    assert ctx.runlog is not None
    await ctx.runlog.lease(tenant, rid, LEASE_TTL)


async def _drive(
    ctx: PorticoContext,
    run: ResponseRun,
    tenant: str,
    runlog: RunLog,
    keeper: StoreObserver,
    metrics: Callable[[], RunObserver] | None,
) -> None:
    """Run a background response to its end (`metrics` None: a continuation, started and
    stored in progress by its route, every event of it logged)."""
    rid = run.request.request_id
    holder = asyncio.create_task(_hold(ctx, runlog, tenant, rid))
    held: list[tuple[int, bytes]] = []  # the terminal batch, logged once the store has it
    first = metrics is not None  # response.created was logged when the response was queued
    try:
        if metrics is not None:
            if await runlog.lease(tenant, rid, LEASE_TTL):  # cancelled while queued
                held = frames(run.assembler.start()[1:] + run.assembler.finish(_aborted()))
                return
            try:
                await run.start()
            except Exception as exc:  # refused: the response fails (as a 4xx/5xx would say)
                error = as_api_error(exc)
                code = "invalid_prompt" if error.status < 500 else "server_error"  # the spec's
                held = _failing(run, error.message, code)
                return
            run.observers.append(metrics())  # counted once it runs
            await keeper.keep(dict(run.response))  # in_progress
        async for events in run.events():
            if first:
                events, first = events[1:], False
            if run.done:
                held = frames(events)
                continue
            if not await _append(runlog, tenant, rid, frames(events)):
                log.warning("background response %s was ended by another worker", rid)
                run.observers.remove(keeper)  # the store keeps that worker's end
                if run.generation is not None:
                    run.generation.abort()
                break
    except asyncio.CancelledError:  # the worker is stopping: end it failed, then let go
        if not run.done:
            held = _failing(run, STOPPED)
        raise
    except Exception:
        log.exception("background response %s failed", rid)
        if not run.done:
            held = _failing(run, UNEXPECTED)
    finally:
        holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder
        await run.close()
        if held:
            await _append(runlog, tenant, rid, held, terminal=True)
        with contextlib.suppress(Exception):
            await runlog.release(tenant, rid)


def _aborted() -> Final:
    return Final(finish_reason=FinishReason.ABORT)


def _failing(run: ResponseRun, message: str, code: str = "server_error") -> list[tuple[int, bytes]]:
    """The events that end `run` failed (after response.in_progress when none was made)."""
    events = run.assembler.start()[1:] if run.assembler.seq == 0 else []
    return frames(events + run.assembler.fail(message, code))


async def _append(
    runlog: RunLog, tenant: str, rid: str, events: list[tuple[int, bytes]], terminal: bool = False
) -> bool:
    """Log a batch; False when the log was ended by someone else (a reader that took this
    run for orphaned). A store failure is logged: the run goes on, the store keeps its end."""
    try:
        return await runlog.append(tenant, rid, events, terminal=terminal) == APPENDED
    except Exception:
        log.warning("could not log the events of background response %s", rid, exc_info=True)
        return True


async def _hold(ctx: PorticoContext, runlog: RunLog, tenant: str, rid: str) -> None:
    """Refresh the lease every TICK; pass a cancel request on to the sidecar."""
    while True:
        await asyncio.sleep(TICK)
        try:
            if await runlog.lease(tenant, rid, LEASE_TTL) and ctx.sidecar is not None:
                await ctx.sidecar.cancel(rid, "cancelled")
        except Exception:
            log.warning("lease of background response %s: refresh failed", rid, exc_info=True)


async def cancel(ctx: PorticoContext, tenant: str, rid: str) -> None:
    """Ask the run's owner, wherever it is, to cancel it; this worker's sidecar at once."""
    assert ctx.runlog is not None
    await ctx.runlog.request_cancel(tenant, rid)
    if ctx.sidecar is not None:
        with contextlib.suppress(Exception):
            await ctx.sidecar.cancel(rid, "cancelled")


async def settle(
    store: ResponseStore, runlog: RunLog, tenant: str, entry: StoredResponse
) -> StoredResponse:
    """`entry` as it stands: an unfinished background response whose owner holds no lease
    is marked failed (in the log, then the store) and returned so."""
    response = entry.response
    if not response.get("background") or response.get("status") not in UNFINISHED:
        return entry
    rid = entry.id
    if await runlog.leased(tenant, rid):
        return entry
    fresh = await store.get(tenant, rid)  # the owner stores the end before it lets go
    if fresh is None or fresh.response.get("status") not in UNFINISHED:
        return fresh or entry
    failed = dict(fresh.response, status="failed")
    failed["error"] = {"code": "server_error", "message": ORPHANED}
    window = await runlog.read(tenant, rid, 1 << 62)
    if window is not None:
        event = ev.response_event("failed", window.last + 1, failed)
        outcome = await runlog.append(tenant, rid, frames([event]), terminal=True, orphan=True)
        if outcome != APPENDED:  # another reader settled it, or the owner is back
            return await store.get(tenant, rid) or fresh
    log.warning("background response %s lost its owner; marked failed", rid)
    ended = StoredResponse(response=failed, input_items=fresh.input_items, messages=fresh.messages)
    await store.put(tenant, ended)
    return ended


async def alive(store: ResponseStore, runlog: RunLog, tenant: str, rid: str) -> bool:
    """Whether the background response is still running (settling it if orphaned)."""
    entry = await store.get(tenant, rid)
    if entry is None:
        return False
    entry = await settle(store, runlog, tenant, entry)
    return entry.response.get("status") in UNFINISHED


async def wait_final(
    store: ResponseStore, runlog: RunLog, tenant: str, entry: StoredResponse, timeout: float
) -> StoredResponse:
    """Poll until the response is final (or `timeout` passes); settles orphans."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        entry = await settle(store, runlog, tenant, entry)
        if entry.response.get("status") not in UNFINISHED:
            return entry
        if asyncio.get_running_loop().time() >= deadline:
            return entry
        await asyncio.sleep(0.05)
        entry = await store.get(tenant, entry.id) or entry
