"""frontend/client/uds.py's generation reading: the messages of one socket read become one
batch, and an ERROR frame read together with deltas does not swallow them (the engine's
text before its failure reaches the stream and the failed Response)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from frontend.client.uds import Connection, UdsGeneration
from inference.protocol import Delta, Error, ErrorCode, Final, FinishReason, RequestError, Started
from inference.protocol import encode as encode_frame


class _Writer:
    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        return None


def generation(*reads: list[Any]) -> UdsGeneration:
    """A generation whose socket delivers each list of messages in one read."""
    reader = asyncio.StreamReader()
    chunks = [b"".join(encode_frame(m) for m in read) for read in reads]

    async def feed() -> None:
        for chunk in chunks:
            reader.feed_data(chunk)
            await asyncio.sleep(0.01)  # one read each

    asyncio.get_running_loop().create_task(feed())
    connection = Connection(reader, _Writer())  # type: ignore[arg-type]
    return UdsGeneration(None, connection, "r1", Started(prompt_tokens=1, max_tokens=9))  # type: ignore[arg-type]


async def collect(gen: UdsGeneration) -> tuple[list[list[Any]], Exception | None]:
    batches: list[list[Any]] = []
    try:
        async for batch in gen.batches():
            batches.append(batch)
    except RequestError as exc:
        return batches, exc
    return batches, None


async def test_each_read_is_one_batch_until_final() -> None:
    final = Final(finish_reason=FinishReason.STOP)
    batches, error = await collect(
        generation([Delta(text="a"), Delta(text="b")], [Delta(text="c"), final])
    )
    assert error is None
    assert [[getattr(m, "text", "F") for m in b] for b in batches] == [["a", "b"], ["c", "F"]]


@pytest.mark.parametrize("together", [True, False], ids=["one read", "two reads"])
async def test_deltas_read_with_an_error_are_kept(together: bool) -> None:
    deltas = [Delta(text="Hello"), Delta(text=" from")]
    failure = Error(ErrorCode.INTERNAL, "RuntimeError: broke")
    reads = [[*deltas, failure]] if together else [deltas, [failure]]
    batches, error = await collect(generation(*reads))
    assert [m.text for b in batches for m in b] == ["Hello", " from"]
    assert isinstance(error, RequestError) and error.message == "RuntimeError: broke"
