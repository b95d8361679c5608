"""The Unix-socket sidecar client: one connection per generation, one for control messages.

Owns connecting, the handshake, the health watch, and turning ERROR frames and broken
connections into exceptions. Closing a generation's connection is how a cancel reaches
the engine (the sidecar aborts on EOF).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from inference.protocol import (
    PROTOCOL_VERSION,
    Cancel,
    CountTokens,
    Delta,
    Error,
    ErrorCode,
    Final,
    GenerateRequest,
    Handshake,
    Health,
    HealthReply,
    Hello,
    ProtocolError,
    RequestError,
    Started,
    Stats,
    StatsReply,
    Struct,
    TokenCount,
    encode,
    read_message,
)

from ..errors import ServiceUnavailable

log = logging.getLogger("portico.client")
UNREACHABLE = "The inference sidecar is not reachable; retry shortly."


class Connection:
    """One handshaken socket connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def receive(self) -> Struct:
        try:
            message = await read_message(self.reader)
        except (ProtocolError, ConnectionError) as exc:
            raise ServiceUnavailable(f"{UNREACHABLE} ({exc})") from None
        if message is None:
            raise ServiceUnavailable(f"{UNREACHABLE} (connection closed)")
        if isinstance(message, Error):
            known = message.code in ErrorCode.__members__.values()
            code = ErrorCode(message.code) if known else ErrorCode.INTERNAL
            raise RequestError(code, message.message, message.param)
        return message

    def close(self) -> None:
        self.writer.close()


class UdsGeneration:
    def __init__(self, connection: Connection, started: Started) -> None:
        self.connection = connection
        self.started = started

    async def __aiter__(self) -> AsyncIterator[Delta | Final]:
        while True:
            message = await self.connection.receive()
            if isinstance(message, Delta):
                yield message
            elif isinstance(message, Final):
                yield message
                return

    async def cancel(self) -> None:
        if not self.connection.writer.is_closing():
            self.connection.writer.write(encode(Cancel()))

    async def close(self) -> None:
        self.connection.close()


class UdsSidecarClient:
    def __init__(
        self, path: str, *, connect_timeout: float = 5.0, health_interval: float = 5.0
    ) -> None:
        self.path = path
        self.connect_timeout = connect_timeout
        self.health_interval = health_interval
        self._handshake: Handshake | None = None
        self._healthy = False
        self._control: Connection | None = None
        self._control_lock = asyncio.Lock()
        self._watch: asyncio.Task[None] | None = None
        self._first_handshake = asyncio.Event()

    @property
    def handshake(self) -> Handshake | None:
        return self._handshake

    @property
    def healthy(self) -> bool:
        return self._healthy and self._handshake is not None

    async def _connect(self, *first: Struct) -> tuple[Connection, Handshake]:
        """Open a connection and send HELLO plus `first` in one write (no round trip)."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.path, limit=2**24), self.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            self._healthy = False
            raise ServiceUnavailable(f"{UNREACHABLE} ({type(exc).__name__})") from None
        writer.write(b"".join(encode(m) for m in (Hello(protocol_version=PROTOCOL_VERSION), *first)))
        connection = Connection(reader, writer)
        try:
            handshake = await connection.receive()
        except BaseException:
            connection.close()
            raise
        if not isinstance(handshake, Handshake) or handshake.protocol_version != PROTOCOL_VERSION:
            connection.close()
            raise ServiceUnavailable(f"{UNREACHABLE} (bad handshake)")
        self._handshake = handshake
        return connection, handshake

    async def generate(self, request: GenerateRequest) -> UdsGeneration:
        connection, _ = await self._connect(request)
        try:
            started = await connection.receive()
        except BaseException:
            connection.close()
            raise
        if not isinstance(started, Started):
            connection.close()
            raise ServiceUnavailable(f"{UNREACHABLE} (expected STARTED)")
        return UdsGeneration(connection, started)

    async def _ask(self, message: Struct) -> Struct:
        async with self._control_lock:
            for attempt in (1, 2):  # a stale control connection gets one fresh retry
                if self._control is None:
                    self._control, _ = await self._connect()
                try:
                    self._control.writer.write(encode(message))
                    return await self._control.receive()
                except ServiceUnavailable:
                    self._control.close()
                    self._control = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    async def count_tokens(self, request: CountTokens) -> TokenCount:
        reply = await self._ask(request)
        assert isinstance(reply, TokenCount)
        return reply

    async def stats(self) -> StatsReply:
        reply = await self._ask(Stats())
        assert isinstance(reply, StatsReply)
        return reply

    async def probe(self) -> bool:
        try:
            reply = await self._ask(Health())
            self._healthy = isinstance(reply, HealthReply) and reply.healthy
        except (ServiceUnavailable, RequestError):
            self._healthy = False
        if self._healthy:
            self._first_handshake.set()
        return self._healthy

    async def start(self) -> None:
        """Begin watching the sidecar's health in the background."""
        self._watch = asyncio.create_task(self._watch_health())

    async def wait_ready(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_handshake.wait(), timeout)
        return self._first_handshake.is_set()

    async def _watch_health(self) -> None:
        while True:
            was = self._healthy
            now = await self.probe()
            if now != was:
                log.info("sidecar at %s is %s", self.path, "healthy" if now else "unreachable")
            # Poll quickly until the first handshake, then at the configured interval.
            await asyncio.sleep(self.health_interval if now else min(0.5, self.health_interval))

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._control is not None:
            self._control.close()
            self._control = None
