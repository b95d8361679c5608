"""The shared state of a background run: its event log, its owner's lease and a cancel request.

Owns the contract both backends keep (this module's MemoryRunLog for one worker,
redis_runlog.py for every worker and pod), and docs/state.md explains:

- the **event log** of one response: its stream events as SSE frames, in sequence order,
  appended a batch at a time by the run's owner. It is capped at `max_bytes`
  (`--responses-stream-buffer-max-bytes`): the oldest events go first (never the newest),
  so a resume from before the retained window can be told apart from one after the end.
  A log ends with its terminal event (`done`); nothing is appended after that, except by
  `reopen` (the owner of a background response continued with tool outputs: its new round's
  events go on in the same log, numbered on). It expires `ttl` seconds after its last
  append, as stored responses do;
- the **lease**: the owner refreshes it while the run lives; a reader that finds an
  unfinished background response without one knows its owner died, and ends the log itself
  (`append(..., orphan=True)` appends only while no lease is held, atomically);
- a **cancel request**, set by the cancel route on any worker or pod and seen by the owner.

Logs are keyed by tenant key and response id, as entries are (base.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .base import tenant_key

# Outcomes of an append.
APPENDED, ENDED, OUT_OF_ORDER, LEASED = "appended", "ended", "out_of_order", "leased"


@dataclass(frozen=True)
class Window:
    """What a log holds after a sequence number: `frames` (SSE bytes) with their numbers
    `seqs`; `first` is the oldest number retained (-1 for an empty log), `last` the newest,
    `done` whether the terminal event is in."""

    frames: list[bytes]
    seqs: list[int]
    first: int
    last: int
    done: bool


class RunLog(Protocol):
    max_bytes: int

    async def append(
        self,
        tenant: str,
        response_id: str,
        events: Sequence[tuple[int, bytes]],
        *,
        terminal: bool = False,
        orphan: bool = False,
        reopen: bool = False,
    ) -> str:
        """Append (seq, frame) pairs; the first must follow the log's last. APPENDED, or
        ENDED (the log was ended: nothing is appended), OUT_OF_ORDER, or LEASED (`orphan`
        and a lease is held). `reopen`: an ended log is opened again (not ENDED)."""
        ...

    async def read(self, tenant: str, response_id: str, after: int) -> Window | None:
        """The events after `after` now (None: no log, or it expired)."""
        ...

    async def wait(
        self, tenant: str, response_id: str, after: int, timeout: float
    ) -> Window | None:
        """As `read`, but waits up to `timeout` seconds for an event after `after`."""
        ...

    async def lease(self, tenant: str, response_id: str, ttl: float) -> bool:
        """Hold (or refresh) the owner's lease; returns whether a cancel was requested."""
        ...

    async def release(self, tenant: str, response_id: str) -> None: ...

    async def leased(self, tenant: str, response_id: str) -> bool: ...

    async def request_cancel(self, tenant: str, response_id: str) -> None: ...

    async def close(self) -> None: ...


@dataclass
class _Log:
    frames: list[tuple[int, bytes]] = field(default_factory=list)
    bytes: int = 0
    last: int = -1
    done: bool = False
    expires: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryRunLog:
    """One worker's run logs, leases and cancel requests, each with a TTL; at most
    `max_logs` logs (the oldest go first) of at most `max_bytes` each."""

    def __init__(
        self,
        *,
        max_bytes: int,
        ttl: float,
        max_logs: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.max_logs = max_logs
        self.clock = clock
        self._logs: OrderedDict[tuple[str, str], _Log] = OrderedDict()
        self._leases: dict[tuple[str, str], float] = {}  # key -> expires at
        self._cancels: dict[tuple[str, str], float] = {}

    def _log(self, tenant: str, response_id: str) -> _Log | None:
        key = (tenant_key(tenant), response_id)
        log = self._logs.get(key)
        if log is not None and log.expires <= self.clock():
            del self._logs[key]
            return None
        return log

    async def append(
        self,
        tenant: str,
        response_id: str,
        events: Sequence[tuple[int, bytes]],
        *,
        terminal: bool = False,
        orphan: bool = False,
        reopen: bool = False,
    ) -> str:
        key = (tenant_key(tenant), response_id)
        if orphan and await self.leased(tenant, response_id):
            return LEASED
        log = self._log(tenant, response_id)
        if log is None:
            log = self._logs[key] = _Log()
            while len(self._logs) > self.max_logs:
                self._logs.popitem(last=False)
        if log.done and not reopen:
            return ENDED
        if events and events[0][0] != log.last + 1:
            return OUT_OF_ORDER
        for seq, frame in events:
            log.frames.append((seq, frame))
            log.bytes += len(frame)
            log.last = seq
        while log.bytes > self.max_bytes and len(log.frames) > 1:
            log.bytes -= len(log.frames.pop(0)[1])
        log.done = terminal
        log.expires = self.clock() + self.ttl
        log.changed.set()
        log.changed = asyncio.Event()
        return APPENDED

    async def read(self, tenant: str, response_id: str, after: int) -> Window | None:
        log = self._log(tenant, response_id)
        if log is None:
            return None
        kept = [(seq, frame) for seq, frame in log.frames if seq > after]
        first = log.frames[0][0] if log.frames else -1
        return Window(
            frames=[f for _, f in kept],
            seqs=[s for s, _ in kept],
            first=first,
            last=log.last,
            done=log.done,
        )

    async def wait(
        self, tenant: str, response_id: str, after: int, timeout: float
    ) -> Window | None:
        log = self._log(tenant, response_id)
        if log is not None and log.last <= after and not log.done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(log.changed.wait(), timeout)
        return await self.read(tenant, response_id, after)

    def _prune(self, marks: dict[tuple[str, str], float], now: float) -> None:
        """Drop expired leases or cancel requests once there are more than `max_logs`."""
        if len(marks) > self.max_logs:
            for key in [k for k, expires in marks.items() if expires <= now]:
                del marks[key]

    async def lease(self, tenant: str, response_id: str, ttl: float) -> bool:
        key = (tenant_key(tenant), response_id)
        now = self.clock()
        self._prune(self._leases, now)
        self._leases[key] = now + ttl
        return self._cancels.get(key, 0.0) > now

    async def release(self, tenant: str, response_id: str) -> None:
        key = (tenant_key(tenant), response_id)
        self._leases.pop(key, None)
        self._cancels.pop(key, None)

    async def leased(self, tenant: str, response_id: str) -> bool:
        key = (tenant_key(tenant), response_id)
        return self._leases.get(key, 0.0) > self.clock()

    async def request_cancel(self, tenant: str, response_id: str) -> None:
        self._prune(self._cancels, self.clock())
        self._cancels[(tenant_key(tenant), response_id)] = self.clock() + self.ttl

    async def close(self) -> None:
        self._logs.clear()
        self._leases.clear()
        self._cancels.clear()


def open_runlog(url: str, *, max_bytes: int, ttl: float, max_logs: int) -> RunLog:
    """The run log beside the store the settings name: in memory, or on the same Redis."""
    if not url:
        return MemoryRunLog(max_bytes=max_bytes, ttl=ttl, max_logs=max_logs)
    from .redis_runlog import RedisRunLog  # redis-py is imported only when it is used

    return RedisRunLog(url, max_bytes=max_bytes, ttl=ttl)
