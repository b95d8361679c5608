"""The Unix-socket sidecar client: pooled generation connections and one control connection.

Owns connecting (retrying a momentarily full listen backlog), the handshake, the health
watch, and turning ERROR frames and broken connections into exceptions. A generation holds a
connection of its own; when it ends with FINAL the connection goes back to an idle pool, and
when it ends any other way (the HTTP client left) the connection is closed, which is how the
sidecar learns to abort the engine request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from inference.protocol import (
    PROTOCOL_VERSION,
    Cancel,
    CancelReply,
    CountTokens,
    Delta,
    Error,
    Final,
    FrameDecoder,
    GenerateRequest,
    Handshake,
    Health,
    HealthReply,
    Hello,
    ProtocolError,
    Query,
    QueryReply,
    RequestError,
    Started,
    Stats,
    StatsReply,
    Struct,
    TokenCount,
    encode,
)

from .errors import SidecarUnavailable

log = logging.getLogger("portico.client")
READ_SIZE = 1 << 16
CONNECT_RETRIES = 20  # a full listen backlog answers EAGAIN at once: wait a little, retry


def _error(message: Error) -> RequestError:
    return RequestError(message.code, message.message, message.param)


class Connection:
    """One handshaken socket connection, read in chunks of whole frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = FrameDecoder()
        self.pending: list[Struct] = []

    async def receive_batch(self) -> list[Struct]:
        """Every whole message the next socket read completes (at least one)."""
        if self.pending:
            batch, self.pending = self.pending, []
            return batch
        while True:
            try:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    raise SidecarUnavailable("connection closed")
                batch = self.decoder.feed(data)
            except (ProtocolError, ConnectionError) as exc:
                raise SidecarUnavailable(str(exc)) from None
            if batch:
                return batch

    async def receive(self) -> Struct:
        batch = await self.receive_batch()
        message, self.pending = batch[0], batch[1:]
        if isinstance(message, Error):
            raise _error(message)
        return message

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof() and not self.pending

    def close(self) -> None:
        self.writer.close()


class UdsGeneration:
    def __init__(
        self,
        client: UdsSidecarClient,
        connection: Connection,
        request_id: str,
        started: Started,
    ) -> None:
        self.client = client
        self.connection = connection
        self.request_id = request_id
        self.started = started
        self.finished = False

    async def batches(self) -> AsyncIterator[list[Delta | Final]]:
        """Deltas as they arrive, several per batch when the sidecar is ahead; FINAL last.
        An ERROR raises, after the deltas read before it (the same read included)."""
        while not self.finished:
            batch: list[Delta | Final] = []
            for message in await self.connection.receive_batch():
                if isinstance(message, Error):
                    if batch:  # what the engine said before failing is the response's too
                        yield batch
                    raise _error(message)
                if isinstance(message, (Delta, Final)):
                    batch.append(message)
                    self.finished = isinstance(message, Final)
                    if self.finished:
                        break
            if batch:
                yield batch

    def abort(self) -> None:
        """Close the connection now: the sidecar aborts the engine request on EOF, and a
        pending `batches()` read ends with SidecarUnavailable."""
        self.connection.close()

    async def close(self) -> None:
        if self.finished:
            self.client.release(self.connection)
        else:
            self.abort()


class UdsSidecarClient:
    def __init__(
        self,
        path: str,
        *,
        connect_timeout: float = 5.0,
        health_interval: float = 5.0,
        max_idle: int = 256,
        on_health: Callable[[bool], None] | None = None,
        max_queued_requests: int | None = None,
    ) -> None:
        self.path = path
        # admission control, told to the sidecar in every HELLO (docs/protocol.md): None, none
        self.max_queued_requests = max_queued_requests
        self.connect_timeout = connect_timeout
        self.health_interval = health_interval
        self.max_idle = max_idle
        self._idle: list[Connection] = []
        self._handshake: Handshake | None = None
        self._healthy = False
        self._control: Connection | None = None
        self._control_lock = asyncio.Lock()
        self._watch: asyncio.Task[None] | None = None
        self._on_health = on_health  # told of every change seen by the health watch

    @property
    def handshake(self) -> Handshake | None:
        return self._handshake

    @property
    def ready(self) -> bool:
        """The one readiness predicate: a handshake was made and the last probe passed."""
        return self._healthy and self._handshake is not None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        for attempt in range(CONNECT_RETRIES):
            try:
                return await asyncio.wait_for(
                    asyncio.open_unix_connection(self.path, limit=2**24), self.connect_timeout
                )
            except BlockingIOError:  # the listen backlog is full for a moment
                await asyncio.sleep(0.005 * (attempt + 1))
            except (OSError, TimeoutError) as exc:
                raise SidecarUnavailable(type(exc).__name__) from None
        raise SidecarUnavailable("its listen backlog stayed full")

    async def _connect(self, *first: Struct) -> tuple[Connection, Handshake]:
        """Open a connection and send HELLO plus `first` in one write (no round trip)."""
        reader, writer = await self._open()
        hello = Hello(
            protocol_version=PROTOCOL_VERSION, max_queued_requests=self.max_queued_requests
        )
        writer.write(b"".join(encode(m) for m in (hello, *first)))
        connection = Connection(reader, writer)
        try:
            handshake = await connection.receive()
        except BaseException:
            connection.close()
            raise
        if not isinstance(handshake, Handshake) or handshake.protocol_version != PROTOCOL_VERSION:
            connection.close()
            raise SidecarUnavailable("bad handshake")
        self._handshake = handshake
        return connection, handshake

    def release(self, connection: Connection) -> None:
        if connection.usable() and len(self._idle) < self.max_idle:
            self._idle.append(connection)
        else:
            connection.close()

    async def generate(self, request: GenerateRequest) -> UdsGeneration:
        while self._idle:  # reuse a pooled connection; a stale one is retried fresh
            connection = self._idle.pop()
            if not connection.usable():
                connection.close()
                continue
            connection.writer.write(encode(request))
            try:
                return await self._started(connection, request.request_id)
            except SidecarUnavailable:
                continue
        connection, _ = await self._connect(request)
        return await self._started(connection, request.request_id)

    async def _started(self, connection: Connection, request_id: str) -> UdsGeneration:
        try:
            started = await connection.receive()
        except RequestError:
            self.release(connection)  # the request was refused; the connection is fine
            raise
        except BaseException:
            connection.close()
            raise
        if not isinstance(started, Started):
            connection.close()
            raise SidecarUnavailable("expected STARTED")
        return UdsGeneration(self, connection, request_id, started)

    async def _ask(self, message: Struct) -> Struct:
        async with self._control_lock:
            for attempt in (1, 2):  # a stale control connection gets one fresh retry
                if self._control is None:
                    self._control, _ = await self._connect()
                try:
                    self._control.writer.write(encode(message))
                    return await self._control.receive()
                except SidecarUnavailable:
                    self._control.close()
                    self._control = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    async def count_tokens(self, request: CountTokens) -> TokenCount:
        reply = await self._ask(request)
        assert isinstance(reply, TokenCount)
        return reply

    async def cancel(self, request_id: str, reason: str = "client") -> bool:
        """Abort a generation by request id, wherever its connection is; False if unknown."""
        reply = await self._ask(Cancel(request_id=request_id, reason=reason))
        assert isinstance(reply, CancelReply)
        return reply.cancelled

    async def query(self, request_id: str) -> QueryReply:
        reply = await self._ask(Query(request_id=request_id))
        assert isinstance(reply, QueryReply)
        return reply

    async def stats(self) -> StatsReply:
        reply = await self._ask(Stats())
        assert isinstance(reply, StatsReply)
        return reply

    async def probe(self) -> bool:
        try:
            reply = await self._ask(Health())
            self._healthy = isinstance(reply, HealthReply) and reply.healthy
        except (SidecarUnavailable, RequestError):
            self._healthy = False
        if not self._healthy:
            self._drop_idle()  # a restarted sidecar: pooled connections are dead
        return self._healthy

    def _drop_idle(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    async def start(self) -> None:
        """Begin watching the sidecar's health in the background."""
        self._watch = asyncio.create_task(self._watch_health())

    async def _watch_health(self) -> None:
        while True:
            was = self._healthy
            now = await self.probe()
            if now != was:
                log.info("sidecar at %s is %s", self.path, "healthy" if now else "unreachable")
            if self._on_health is not None:
                self._on_health(now)
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
        self._drop_idle()
