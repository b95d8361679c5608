"""The sidecar's socket server: accepts frontend connections on a Unix socket.

Owns the conversation rules of docs/protocol.md on the sidecar side: HELLO/HANDSHAKE first,
then requests; one generation at a time per connection; every running generation is known by
its request id, so a CANCEL or QUERY by id works from any connection (any frontend worker;
in a sharded sidecar each shard runs one of these servers, and clients ask every shard);
a dropped connection aborts its generation (the safety net); SIGTERM stops accepting, drains
running generations, then exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

import msgspec

from .backend import Engine
from .log_format import TRACE_ID
from .protocol import (
    DEFAULT_MAX_FRAME,
    PROTOCOL_VERSION,
    Cancel,
    CancelReply,
    CountTokens,
    Delta,
    Error,
    ErrorCode,
    Final,
    FinishReason,
    GenerateRequest,
    Health,
    Hello,
    ProtocolError,
    Query,
    QueryReply,
    RequestError,
    Started,
    Stats,
    Struct,
    Usage,
    encode,
    read_message,
)

log = logging.getLogger("portico.sidecar")
BACKLOG = 4096  # a Unix socket refuses (EAGAIN) past its backlog: room for connect bursts
# Admission control when the engine does not report its capacity (Handshake.max_num_seqs 0):
# vLLM's own default max_num_seqs on a GPU.
DEFAULT_CAPACITY = 256


class Running:
    """One generation in flight: its task, its connection's writer, and what it produced."""

    __slots__ = ("aborted", "prompt_tokens", "request_id", "task", "tokens", "writer")

    def __init__(self, request_id: str, writer: asyncio.StreamWriter) -> None:
        self.request_id = request_id
        self.writer = writer
        self.task: asyncio.Task[None] | None = None
        self.prompt_tokens = 0
        self.tokens = 0
        self.aborted = False  # cancelled on request: the task answers FINAL abort

    def live(self) -> bool:
        return self.task is not None and not self.task.done()

    def abort(self, *, answer: bool = True) -> bool:
        """Cancel the task; with `answer`, it sends FINAL abort on its connection."""
        if self.task is None or self.task.done():
            return False
        self.aborted = answer
        self.task.cancel()
        return True

    def pending(self) -> list[asyncio.Task[None]]:
        return [self.task] if self.task is not None else []

    def final_abort(self) -> Final:
        usage = Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.tokens)
        return Final(finish_reason=FinishReason.ABORT, usage=usage)


class SidecarServer:
    def __init__(
        self,
        engine: Engine,
        socket_path: str | Path,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        drain_timeout: float = 30.0,
        shard: int = 0,
        shards: int = 1,
    ) -> None:
        self.engine = engine
        self.socket_path = Path(socket_path)
        self.shard = shard  # this server's index among the sidecar's shards (protocol/shards.py)
        self.shards = shards
        self.max_frame = max_frame
        self.drain_timeout = drain_timeout
        self._server: asyncio.Server | None = None
        self._generations: set[asyncio.Task[None]] = set()
        self._running: dict[str, Running] = {}  # request id -> generation in flight
        self._connections: set[asyncio.Task[None]] = set()
        self._draining = False

    async def start(self) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # a stale socket from an earlier run
        self._server = await asyncio.start_unix_server(
            self._connection,
            path=str(self.socket_path),
            limit=self.max_frame + 8,
            backlog=BACKLOG,
        )
        os.chmod(self.socket_path, 0o660)
        log.info("sidecar listening on %s", self.socket_path)

    async def stop(self) -> None:
        """Stop accepting, let running generations finish (up to the drain timeout), refuse
        new ones meanwhile, then close every connection and shut the engine down."""
        self._draining = True
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._generations:
            log.info("draining %d running generation(s)", len(self._generations))
            _, pending = await asyncio.wait(set(self._generations), timeout=self.drain_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        await self.engine.shutdown()

    # --- one connection ---------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        current: Running | None = None  # this connection's generation
        try:
            hello = await self._handshake(reader, writer)
            if hello is None:
                return
            while True:
                message = await read_message(reader, self.max_frame)
                if message is None:
                    break  # the client went away: abort what it was waiting for
                if isinstance(message, GenerateRequest):
                    if current is not None and current.live():
                        self._send(writer, Error(ErrorCode.INVALID_REQUEST, "busy connection"))
                    else:
                        current = self._start(message, writer, hello.max_queued_requests)
                elif isinstance(message, Cancel) and message.request_id is None:
                    if current is not None and current.abort():
                        await asyncio.gather(*current.pending(), return_exceptions=True)
                else:
                    self._send(writer, await self._control(message))
                await writer.drain()
        except ProtocolError as exc:
            log.warning("closing a connection that broke the protocol: %s", exc)
            self._send(writer, Error(exc.code, str(exc)))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # cancelled: stop() is closing every connection
        finally:
            self._connections.discard(task)
            if current is not None and current.abort(answer=False):  # EOF: nobody to answer
                await asyncio.gather(*current.pending(), return_exceptions=True)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _start(
        self, request: GenerateRequest, writer: asyncio.StreamWriter, queued: int | None = None
    ) -> Running | None:
        """Start a generation, or refuse it with an ERROR (draining, beyond the admission
        bound the connection's HELLO asked for, duplicate id)."""
        if self._draining:
            self._send(writer, Error(ErrorCode.OVERLOADED, "the sidecar is stopping"))
            return None
        bound = self.admission_bound(queued)
        if bound is not None and len(self._running) >= bound:
            message = f"the engine is at capacity: {len(self._running)} generations of {bound}"
            self._send(writer, Error(ErrorCode.QUEUE_FULL, message))
            return None
        if request.request_id in self._running:
            message = f"a generation with request id {request.request_id!r} is already running"
            self._send(writer, Error(ErrorCode.INVALID_REQUEST, message))
            return None
        running = Running(request.request_id, writer)
        running.task = asyncio.create_task(self._generate(request, running))
        self._running[request.request_id] = running
        self._generations.add(running.task)
        running.task.add_done_callback(lambda task: self._ended(running, task))
        return running

    def _ended(self, running: Running, task: asyncio.Task[None]) -> None:
        """A generation task ended: forget it, and answer FINAL abort if it was cancelled on
        request (also when the cancel came before the task ever ran)."""
        self._generations.discard(task)
        if self._running.get(running.request_id) is running:
            del self._running[running.request_id]
        if task.cancelled() and running.aborted:
            self._send(running.writer, running.final_abort())

    def admission_bound(self, queued: int | None) -> int | None:
        """Generations this shard runs or holds at most for a client that lets `queued`
        wait (Hello.max_queued_requests): the engine's capacity plus that queue (0: twice
        the capacity), shared evenly by the shards (clients spread generations over them);
        None: no bound."""
        if queued is None:
            return None
        capacity = self.engine.handshake().max_num_seqs or DEFAULT_CAPACITY
        bound = capacity + (queued if queued > 0 else 2 * capacity)
        return -(-bound // self.shards)

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Hello | None:
        hello = await read_message(reader, self.max_frame)
        if hello is None:
            return None
        if not isinstance(hello, Hello):
            raise ProtocolError(f"expected HELLO first, got {type(hello).__name__}")
        if hello.protocol_version != PROTOCOL_VERSION:
            self._send(
                writer,
                Error(
                    ErrorCode.VERSION_MISMATCH,
                    f"sidecar speaks protocol {PROTOCOL_VERSION}, client {hello.protocol_version}",
                ),
            )
            return None
        handshake = self.engine.handshake()
        self._send(writer, msgspec.structs.replace(handshake, shard=self.shard, shards=self.shards))
        return hello

    async def _generate(self, request: GenerateRequest, running: Running) -> None:
        TRACE_ID.set(request.trace_id)  # this task's log lines carry the client's request id
        rid = request.request_id
        log.info("generation %s started (priority %d)", rid, request.priority)
        writer = running.writer
        stream = self.engine.generate(request)
        try:
            async for event in stream:
                if isinstance(event, Delta):
                    running.tokens += event.tokens
                elif isinstance(event, Started):
                    running.prompt_tokens = event.prompt_tokens
                elif isinstance(event, Final):
                    usage = event.usage
                    log.info(
                        "generation %s ended: %s, %d prompt and %d output tokens",
                        rid,
                        event.finish_reason.value,
                        usage.prompt_tokens,
                        usage.completion_tokens,
                    )
                writer.write(encode(event))
                await writer.drain()
        except RequestError as exc:
            log.info("generation %s refused: %s", rid, exc.message)
            self._send(writer, Error(exc.code, exc.message, exc.param))
        except (ConnectionError, asyncio.CancelledError):
            log.info("generation %s aborted after %d output tokens", rid, running.tokens)
            raise  # a dropped connection, a CANCEL (answered by _ended) or the sidecar stopping
        except Exception as exc:
            log.exception("generation %s failed", request.request_id)
            self._send(writer, Error(ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}"))
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async def _control(self, message: Struct) -> Struct:
        try:
            if isinstance(message, Health):
                return await self.engine.health()
            if isinstance(message, Stats):
                return self.engine.stats()
            if isinstance(message, CountTokens):
                return await self.engine.count_tokens(message)
            if isinstance(message, Cancel) and message.request_id is not None:
                running = self._running.get(message.request_id)
                cancelled = running is not None and running.abort()
                if cancelled:
                    log.info("generation %s cancelled (%s)", message.request_id, message.reason)
                return CancelReply(request_id=message.request_id, cancelled=cancelled)
            if isinstance(message, Query):
                running = self._running.get(message.request_id)
                return QueryReply(
                    request_id=message.request_id,
                    running=running is not None,
                    prompt_tokens=running.prompt_tokens if running else 0,
                    output_tokens=running.tokens if running else 0,
                )
        except RequestError as exc:
            return Error(exc.code, exc.message, exc.param)
        except Exception as exc:
            log.exception("a %s request failed", type(message).__name__)
            return Error(ErrorCode.INTERNAL, f"{type(exc).__name__}: {exc}")
        return Error(ErrorCode.BAD_FRAME, f"unexpected {type(message).__name__} frame")

    @staticmethod
    def _send(writer: asyncio.StreamWriter, message: Struct) -> None:
        if not writer.is_closing():
            writer.write(encode(message))
