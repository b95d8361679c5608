"""Group commit: the writes of many responses to Redis, sent as one call per flush.

Owns how a worker's concurrent writes (response puts, run-log appends) share round trips.
Each writer still awaits its own result, so nothing is answered before Redis has it; but
while one flush is in flight, every write submitted meanwhile waits in a queue, and the next
flush sends all of them (up to `max_batch`) as one script call. One write alone goes out at
once (no timer, no added latency); under load, one call and one connection carry the writes
of every response that ended during the previous round trip, so the event loop does redis-py's
per-command work (a pooled connection, packing, parsing) once per flush, not once per write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 256  # writes per flush at most (one script call's arguments stay bounded)


def _retrieved(future: asyncio.Future[R]) -> None:
    """Mark a failed write's error as seen (its writer may have left)."""
    if not future.cancelled():
        future.exception()


class GroupCommit(Generic[T, R]):
    """`submit(item)` returns `flush([...])`'s result for `item`; `flush` gets the items
    queued since the last flush began, in submission order, and returns one result each.
    A flush that raises raises in every writer of its batch."""

    def __init__(
        self, flush: Callable[[list[T]], Awaitable[list[R]]], *, max_batch: int = MAX_BATCH
    ) -> None:
        self._flush = flush
        self.max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        future.add_done_callback(_retrieved)
        self._queue.append((item, future))
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(self._drain())
        # A writer that is cancelled (its client left) leaves its write queued: it still lands.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            try:
                results = await self._flush([item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException as exc:  # cancelled: the writers must not wait forever
                for _, future in batch + self._queue:
                    if not future.done():
                        future.set_exception(RuntimeError(f"store writer stopped: {exc!r}"))
                self._queue.clear()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Wait for the writes already submitted (on this loop) to land."""
        task = self._task
        if task is not None and not task.done() and self._loop is asyncio.get_running_loop():
            await asyncio.wait([task])
