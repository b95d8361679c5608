"""One stored entry as bytes: the same encoding, and so the same byte count, in every backend.

The bytes are the previous response id, a newline, then the entry as MessagePack. The first
line lets the Redis backend's chain walk (a Lua script) follow `previous_response_id` without
decoding the entry; response ids never hold a newline.
"""

from __future__ import annotations

import msgspec

from .base import StoredResponse

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(StoredResponse)


def encode(entry: StoredResponse) -> bytes:
    return (entry.previous_id or "").encode() + b"\n" + _encoder.encode(entry)


def decode(blob: bytes) -> StoredResponse:
    return _decoder.decode(blob[blob.index(b"\n") + 1 :])
