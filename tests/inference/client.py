"""Helpers for the sidecar tests: a raw protocol client and an in-process fake sidecar."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from inference.fake import FakeEngine
from inference.protocol import (
    PROTOCOL_VERSION,
    ChatMessage,
    Error,
    Final,
    GenerateRequest,
    Handshake,
    Hello,
    Role,
    Struct,
    encode,
    read_message,
)
from inference.server import SidecarServer


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


@asynccontextmanager
async def serving(
    path: Path, drain_timeout: float = 30.0, **fake: object
) -> AsyncIterator[tuple[SidecarServer, FakeEngine]]:
    engine = FakeEngine(**fake)  # type: ignore[arg-type]
    server = SidecarServer(engine, path, drain_timeout=drain_timeout)
    await server.start()
    try:
        yield server, engine
    finally:
        await server.stop()


@asynccontextmanager
async def client(path: Path, handshake: bool = True) -> AsyncIterator[Client]:
    c = await Client.connect(path)
    try:
        if handshake:
            assert isinstance(await c.hello(), Handshake)
        yield c
    finally:
        await c.close()


def generate(text: str = "hi there", request_id: str = "req", **kw: object) -> GenerateRequest:
    return GenerateRequest(
        request_id=request_id,
        messages=[ChatMessage(role=Role.USER, content=text)],
        **kw,  # type: ignore[arg-type]
    )


async def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
