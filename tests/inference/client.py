"""A raw sidecar protocol client for tests: frames written and read by hand."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from inference.protocol import (
    PROTOCOL_VERSION,
    Error,
    Final,
    Hello,
    Struct,
    encode,
    read_message,
)


class Client:
    """One raw connection to a sidecar, speaking frames by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, path: Path | str) -> Client:
        reader, writer = await asyncio.open_unix_connection(str(path))
        return cls(reader, writer)

    async def send(self, message: Struct) -> None:
        await self.send_raw(encode(message))

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv(self, timeout: float = 5.0) -> Struct | None:
        return await asyncio.wait_for(read_message(self.reader), timeout)

    async def hello(self) -> Struct | None:
        await self.send(Hello(protocol_version=PROTOCOL_VERSION))
        return await self.recv()

    async def until_final(self, timeout: float = 10.0) -> list[Struct]:
        """Every frame up to and including the next FINAL or ERROR (or EOF)."""
        out: list[Struct] = []
        while True:
            message = await self.recv(timeout)
            if message is None:
                return out
            out.append(message)
            if isinstance(message, Final | Error):
                return out

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
