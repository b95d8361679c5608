"""Group commit (store/group_commit.py) and the pipelined connection (store/pipelined.py):
writes made while one flush is in flight share the next, each writer still gets its own
result, failures reach every writer of the batch; on a real Redis, concurrent puts and
appends take few script calls and every outcome is as if alone; a connection Redis dropped
is opened again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from frontend.store import StoreUnavailable
from frontend.store.codec import encode
from frontend.store.group_commit import GroupCommit
from frontend.store.pipelined import PipelinedRedis
from frontend.store.redis import RedisStore
from frontend.store.redis_runlog import RedisRunLog
from frontend.store.resp import PyReader, ReplyError, pack
from frontend.store.runlog import APPENDED, ENDED, OUT_OF_ORDER
from tests.frontend.store.entries import entry
from tests.redis_server import RedisServer


async def test_writes_during_a_flush_share_the_next() -> None:
    flushed: list[list[int]] = []
    gate = asyncio.Event()

    async def flush(items: list[int]) -> list[int]:
        flushed.append(items)
        if len(flushed) == 1:
            await gate.wait()
        return [i * 10 for i in items]

    commit: GroupCommit[int, int] = GroupCommit(flush)
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(commit.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 10
    assert await asyncio.gather(*rest) == [20, 30, 40]
    assert flushed == [[1], [2, 3, 4]]


async def test_a_failed_flush_fails_its_writers_only() -> None:
    calls = 0

    async def flush(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if "bad" in items:
            raise ValueError("boom")
        return items

    commit: GroupCommit[str, str] = GroupCommit(flush, max_batch=2)
    results = await asyncio.gather(
        *(commit.submit(x) for x in ("a", "bad", "c", "d")), return_exceptions=True
    )
    assert [type(r).__name__ if isinstance(r, Exception) else r for r in results] == [
        "ValueError",
        "ValueError",
        "c",
        "d",
    ]
    assert calls == 2  # a batch is at most max_batch writes


async def test_a_cancelled_writer_still_lands_its_write() -> None:
    landed: list[int] = []
    gate = asyncio.Event()

    async def flush(items: list[int]) -> list[None]:
        await gate.wait()
        landed.extend(items)
        return [None] * len(items)

    commit: GroupCommit[int, None] = GroupCommit(flush)
    writer = asyncio.create_task(commit.submit(7))
    await asyncio.sleep(0)
    writer.cancel()
    gate.set()
    await commit.close()
    assert landed == [7]


def test_commands_are_packed_as_resp() -> None:
    assert pack(("SET", b"k", 12)) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n"


async def _evalsha_calls(url: str) -> int:
    raw = aioredis.Redis.from_url(url)
    try:
        stats = await raw.info("commandstats")
    finally:
        await raw.aclose()
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def test_concurrent_puts_share_script_calls_and_keep_each_outcome(
    redis_server: RedisServer,
) -> None:
    url = redis_server.fresh_url()
    size = len(encode(entry("resp_000")))
    store = RedisStore(url, max_entries=1000, max_bytes=size * 100, ttl=60)
    big = entry("resp_big", text="x" * (size * 100))
    try:
        before = await _evalsha_calls(url)
        puts = [store.put("t", entry(f"resp_{n:03}")) for n in range(60)]
        kept = await asyncio.gather(*puts, store.put("t", big))
        assert kept == [True] * 60 + [False]  # the one over the byte cap alone is refused
        assert await _evalsha_calls(url) - before < 20  # batched: not one call per put
        assert (await store.usage()).entries == 60
        assert await store.get("t", "resp_059") is not None
    finally:
        await store.close()


async def test_concurrent_appends_of_many_logs_are_each_decided_alone(
    redis_server: RedisServer,
) -> None:
    runlog = RedisRunLog(redis_server.fresh_url(), max_bytes=10_000, ttl=60)
    try:
        await runlog.append("", "ended", [(0, b"x")], terminal=True)
        outcomes = await asyncio.gather(
            *(runlog.append("", f"r{n}", [(0, b"a"), (1, b"b")]) for n in range(30)),
            runlog.append("", "ended", [(1, b"y")]),
            runlog.append("", "gap", [(5, b"z")]),
        )
        assert outcomes == [APPENDED] * 30 + [ENDED, OUT_OF_ORDER]
        window = await runlog.read("", "r29", -1)
        assert window is not None and window.seqs == [0, 1] and not window.done
    finally:
        await runlog.close()


async def test_a_dropped_connection_is_opened_again(redis_server: RedisServer) -> None:
    url = redis_server.fresh_url()
    store = RedisStore(url, max_entries=100, max_bytes=1 << 20, ttl=60)
    raw = aioredis.Redis.from_url(url)
    try:
        assert await store.put("t", entry("resp_1"))
        killed = await raw.client_kill_filter(_type="normal", skipme=True)
        assert killed >= 1  # the pipelined connection (and the pool's) hung up on
        await asyncio.sleep(0.1)
        assert await store.put("t", entry("resp_2"))  # the next write reconnects
        assert await store.get("t", "resp_2") is not None
    finally:
        await raw.aclose()
        await store.close()


async def test_no_redis_is_store_unavailable(tmp_path: Path) -> None:
    pipe = PipelinedRedis(f"unix://{tmp_path}/nobody.sock", timeout=1)
    store = RedisStore(f"unix://{tmp_path}/nobody.sock", max_entries=1, max_bytes=1, ttl=1)
    try:
        with pytest.raises(RedisConnectionError):
            await pipe.call("PING")
        with pytest.raises(StoreUnavailable):
            await store.put("t", entry("resp_1"))
    finally:
        await pipe.close()
        await store.close()


def test_the_python_reader_reads_what_redis_sends_in_pieces() -> None:
    """The fallback when hiredis is not installed: every reply type, split anywhere."""
    wire = b"+OK\r\n-NOSCRIPT No matching script\r\n:42\r\n$-1\r\n$3\r\nabc\r\n"
    wire += b"*3\r\n:1\r\n*2\r\n$1\r\nx\r\n$0\r\n\r\n+QUEUED\r\n"
    for cut in range(len(wire) + 1):
        reader = PyReader()
        replies: list[object] = []
        for piece in (wire[:cut], wire[cut:]):
            reader.feed(piece)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
        assert len(replies) == 6, cut
        assert replies[0] == b"OK" and isinstance(replies[1], ReplyError)
        assert str(replies[1]).startswith("NOSCRIPT")
        assert replies[2] == 42 and replies[3] is None and replies[4] == b"abc"
        assert replies[5] == [1, [b"x", b""], b"QUEUED"]


async def test_the_pipelined_connection_works_without_hiredis(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("frontend.store.pipelined.reader", PyReader)
    pipe = PipelinedRedis(redis_server.fresh_url(), timeout=5)
    try:
        assert await pipe.call("SET", "k", b"v") == b"OK"
        assert await pipe.transaction(("GET", "k"), ("EXISTS", "nothing")) == [b"v", 0]
        sha = pipe.script("return {1, ARGV[1]}")
        assert await pipe.evalsha(sha, [], ["x"]) == [1, b"x"]  # loaded on NOSCRIPT
    finally:
        await pipe.close()
