"""The run-log contract (store/runlog.py) on both backends: ordered appends, the end, the
byte cap (never the newest event), waiting for events, leases and cancel requests, tenants.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from frontend.store.redis_runlog import RedisRunLog
from frontend.store.runlog import (
    APPENDED,
    ENDED,
    LEASED,
    OUT_OF_ORDER,
    MemoryRunLog,
    RunLog,
)
from tests.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def runlog(
    request: pytest.FixtureRequest, redis_server: RedisServer
) -> AsyncIterator[RunLog]:
    log: RunLog
    if request.param == "memory":
        log = MemoryRunLog(max_bytes=100, ttl=60)
    else:
        log = RedisRunLog(redis_server.fresh_url(), max_bytes=100, ttl=60)
    yield log
    await log.close()


def frame(seq: int, size: int = 10) -> tuple[int, bytes]:
    return seq, str(seq).encode().ljust(size, b".")


async def test_appends_in_order_and_ends(runlog: RunLog) -> None:
    assert await runlog.read("", "r1", -1) is None
    assert await runlog.append("", "r1", [frame(0), frame(1)]) == APPENDED
    assert await runlog.append("", "r1", [frame(3)]) == OUT_OF_ORDER
    assert await runlog.append("", "r1", [frame(2)], terminal=True) == APPENDED
    assert await runlog.append("", "r1", [frame(3)]) == ENDED
    window = await runlog.read("", "r1", 0)
    assert window is not None
    assert (window.seqs, window.first, window.last, window.done) == ([1, 2], 0, 2, True)
    assert window.frames == [frame(1)[1], frame(2)[1]]
    assert await runlog.read("other tenant", "r1", -1) is None


async def test_reopen_continues_an_ended_log_in_order(runlog: RunLog) -> None:
    """A background response continued with tool outputs: its log goes on after its end."""
    await runlog.append("", "r9", [frame(0), frame(1)], terminal=True)
    assert await runlog.append("", "r9", [frame(2)]) == ENDED
    assert await runlog.append("", "r9", [frame(5)], reopen=True) == OUT_OF_ORDER
    assert await runlog.append("", "r9", [], reopen=True) == APPENDED
    window = await runlog.read("", "r9", -1)
    assert window is not None and not window.done and window.last == 1
    assert await runlog.append("", "r9", [frame(2), frame(3)], terminal=True) == APPENDED
    window = await runlog.read("", "r9", 1)
    assert window is not None and (window.seqs, window.done) == ([2, 3], True)


async def test_the_byte_cap_drops_the_oldest_never_the_newest(runlog: RunLog) -> None:
    await runlog.append("", "r2", [frame(n) for n in range(25)])
    window = await runlog.read("", "r2", -1)
    assert window is not None
    assert (window.first, window.last, window.seqs[0]) == (15, 24, 15)
    assert sum(map(len, window.frames)) <= 100
    await runlog.append("", "r2", [frame(25, size=500)])
    window = await runlog.read("", "r2", -1)
    assert window is not None and window.seqs == [25]


async def test_wait_returns_new_events_or_times_out(runlog: RunLog) -> None:
    await runlog.append("", "r3", [frame(0)])
    idle = await runlog.wait("", "r3", 0, 0.05)
    assert idle is not None and idle.frames == []

    async def later() -> None:
        await asyncio.sleep(0.05)
        await runlog.append("", "r3", [frame(1)])

    task = asyncio.create_task(later())
    woken = await runlog.wait("", "r3", 0, 1.0)
    await task
    assert woken is not None and woken.seqs == [1]


async def test_leases_and_cancel_requests(runlog: RunLog) -> None:
    assert not await runlog.leased("", "r4")
    assert await runlog.lease("", "r4", 0.2) is False
    assert await runlog.leased("", "r4")
    assert await runlog.append("", "r4", [frame(0)], terminal=True, orphan=True) == LEASED
    await runlog.request_cancel("", "r4")
    assert await runlog.lease("", "r4", 0.2) is True
    await asyncio.sleep(0.3)
    assert not await runlog.leased("", "r4")  # expired
    assert await runlog.append("", "r4", [frame(0)], terminal=True, orphan=True) == APPENDED
    await runlog.lease("", "r4", 5)
    await runlog.release("", "r4")
    assert not await runlog.leased("", "r4")
