"""The framing's refusals: oversized and zero-length frames, garbage, EOF inside a frame."""

from __future__ import annotations

import asyncio
import struct

import msgspec
import pytest

from inference.protocol import (
    Delta,
    FrameDecoder,
    FrameTooLarge,
    Health,
    Kind,
    ProtocolError,
    Stats,
    encode,
    read_message,
)
from tests.inference.protocol.frames import frame, reader_of


def test_oversized_frame_refused_from_the_header() -> None:
    decoder = FrameDecoder(max_frame=64)
    assert decoder.feed(struct.pack(">I", 65)) == []  # the length alone: wait for the kind
    with pytest.raises(FrameTooLarge):
        decoder.feed(bytes([Kind.DELTA]))  # refused with no body sent at all
    with pytest.raises(FrameTooLarge):
        FrameDecoder(max_frame=64).feed(struct.pack(">IB", 0xFFFFFFFF, Kind.DELTA))
    ok = encode(Delta(text="x" * 20))
    assert FrameDecoder(max_frame=len(ok) - 4).feed(ok) == [Delta(text="x" * 20)]
    with pytest.raises(FrameTooLarge):
        FrameDecoder(max_frame=len(ok) - 5).feed(ok)


async def test_read_message_refuses_oversized_before_the_body() -> None:
    reader = reader_of(struct.pack(">IB", 1 << 30, Kind.DELTA), eof=False)  # body never comes
    with pytest.raises(FrameTooLarge):
        await asyncio.wait_for(read_message(reader, max_frame=1024), 1)
    ok = encode(Delta(text="y" * 50))
    assert await read_message(reader_of(ok), max_frame=len(ok) - 4) == Delta(text="y" * 50)
    with pytest.raises(FrameTooLarge):
        await read_message(reader_of(ok), max_frame=len(ok) - 5)


async def test_zero_length_frame() -> None:
    zero = struct.pack(">IB", 0, Kind.HEALTH)
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(zero)
    with pytest.raises(ProtocolError):
        await read_message(reader_of(zero))
    # a kind byte with an empty body is not a valid message either
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(frame(Kind.HEALTH, b""))
    with pytest.raises(ProtocolError):
        await read_message(reader_of(frame(Kind.HEALTH, b"")))


GARBAGE = {
    "unknown-kind": frame(0x99, msgspec.msgpack.encode({})),
    "kind-zero": frame(0x00, msgspec.msgpack.encode({})),
    "undecodable-body": frame(Kind.HELLO, b"\xc1\xc1"),
    "truncated-msgpack": frame(Kind.HELLO, b"\x82\xa1a"),
    "trailing-bytes": frame(Kind.HEALTH, b"\x80\x80"),
    "list-not-map": frame(Kind.HELLO, msgspec.msgpack.encode([1, "x"])),
    "int-not-map": frame(Kind.STATS, msgspec.msgpack.encode(5)),
    "wrong-field-type": frame(Kind.HELLO, msgspec.msgpack.encode({"protocol_version": "one"})),
    "hello-without-version": frame(Kind.HELLO, msgspec.msgpack.encode({"client": "old"})),
    "missing-field": frame(Kind.GENERATE, msgspec.msgpack.encode({"request_id": "r"})),
    "nested-wrong": frame(
        Kind.GENERATE,
        msgspec.msgpack.encode({"request_id": "r", "messages": [{"content": "no role"}]}),
    ),
}


@pytest.mark.parametrize("data", GARBAGE.values(), ids=GARBAGE.keys())
async def test_garbage_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        FrameDecoder().feed(data)
    assert not isinstance(info.value, FrameTooLarge)
    with pytest.raises(ProtocolError):
        await read_message(reader_of(data))


async def test_eof_between_frames_is_clean() -> None:
    assert await read_message(reader_of(b"")) is None
    reader = reader_of(encode(Health()) + encode(Stats()))
    assert await read_message(reader) == Health()
    assert await read_message(reader) == Stats()
    assert await read_message(reader) is None


@pytest.mark.parametrize("cut", [1, 3, 4, 5, 8])
async def test_eof_inside_a_frame_is_a_protocol_error(cut: int) -> None:
    data = encode(Delta(text="some text"))
    assert cut < len(data)
    reader = reader_of(encode(Health()) + data[:cut])
    assert await read_message(reader) == Health()
    with pytest.raises(ProtocolError):
        await read_message(reader)
