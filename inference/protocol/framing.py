"""Length-prefixed frames over a byte stream.

Owns the wire format: ``[4-byte big-endian length][1-byte kind][msgpack body]`` where the
length counts the kind byte and the body. Frames above ``max_frame`` are refused before their
body is read. Imports only the standard library and msgspec.
"""

from __future__ import annotations

import asyncio
import struct

import msgspec

from .errors import FrameTooLarge, ProtocolError
from .messages import KIND_OF, MESSAGE_TYPES, Kind, Struct

HEADER = struct.Struct(">IB")
DEFAULT_MAX_FRAME = 16 * 1024 * 1024

_encoder = msgspec.msgpack.Encoder()
_decoders = {kind: msgspec.msgpack.Decoder(cls) for kind, cls in MESSAGE_TYPES.items()}


def encode(message: Struct) -> bytes:
    """One message as one frame."""
    kind = KIND_OF[type(message)]
    body = _encoder.encode(message)
    return HEADER.pack(len(body) + 1, kind) + body


def decode_body(kind_byte: int, body: bytes) -> Struct:
    """The message of one frame; raises ProtocolError on an unknown kind or a bad body."""
    try:
        kind = Kind(kind_byte)
    except ValueError:
        raise ProtocolError(f"unknown message kind 0x{kind_byte:02x}") from None
    try:
        message: Struct = _decoders[kind].decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(f"bad {kind.name} frame: {exc}") from None
    return message


class FrameDecoder:
    """Incremental decoder: feed it any slices of the stream, take whole messages out."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Struct]:
        self._buffer += data
        messages: list[Struct] = []
        while len(self._buffer) >= HEADER.size:
            length, kind = HEADER.unpack_from(self._buffer)
            if length < 1 or length > self.max_frame:
                raise FrameTooLarge(f"frame of {length} bytes (cap {self.max_frame})")
            end = 4 + length
            if len(self._buffer) < end:
                break
            body = bytes(self._buffer[HEADER.size : end])
            del self._buffer[:end]
            messages.append(decode_body(kind, body))
        return messages


async def read_message(
    reader: asyncio.StreamReader, max_frame: int = DEFAULT_MAX_FRAME
) -> Struct | None:
    """The next message, or None at a clean end of stream (EOF between frames)."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("stream ended inside a frame header") from None
        return None
    length, kind = HEADER.unpack(header)
    if length < 1 or length > max_frame:
        raise FrameTooLarge(f"frame of {length} bytes (cap {max_frame})")
    try:
        body = await reader.readexactly(length - 1)
    except asyncio.IncompleteReadError:
        raise ProtocolError("stream ended inside a frame body") from None
    return decode_body(kind, body)
