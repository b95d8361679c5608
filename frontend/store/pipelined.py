"""The hot path's connection to Redis: one socket, commands written back to back, replies
matched in order (pipelining), parsed by hiredis (resp.py).

Owns the path that every stored response, every background run's event batch and every
resume's reads take to Redis. redis-py's asyncio client costs ~80-170 µs of event-loop CPU
per command (a pooled connection with health checks, its timeouts, packing and parsing in
Python); this costs ~10-15 µs: a command is packed in one `b"".join`, written to the
transport at once (no wait for earlier replies), and its reply parsed in C when it arrives.
Only commands that answer at once go here (scripts, GET, SET, EXISTS, a MULTI/EXEC of
reads): a blocking read (XREAD BLOCK) would stall every command behind it, so it keeps
redis-py's pool (redis_runlog.py).

The URL is parsed by redis-py (`redis://`, `rediss://`, `unix://`, password, username, db).
The connection opens on first use (AUTH, SELECT) and again after any failure; a reply that
takes longer than `timeout` closes it (later replies could no longer be matched). Every
failure raises redis-py's exception classes, so `talking` (redis.py) maps them to a 503.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from typing import Any

from redis.asyncio.connection import parse_url
from redis.exceptions import ConnectionError, NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

from .resp import ERRORS, Arg, pack, reader


class _Replies(asyncio.Protocol):
    """The socket's side: bytes in, replies out to the waiting commands in order."""

    def __init__(self) -> None:
        self.reader = reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            if not self.waiting:  # a reply nobody asked for: the stream is out of step
                self.fail(ConnectionError("Redis sent a reply that was not asked for"))
                return
            future = self.waiting.popleft()
            if future.done():
                continue
            if isinstance(reply, ERRORS):
                text = str(reply)
                error = NoScriptError if text.startswith("NOSCRIPT") else ResponseError
                future.set_exception(error(text))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail_waiting(ConnectionError(f"Redis closed the connection: {exc or 'EOF'}"))

    def fail(self, exc: Exception) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        self._fail_waiting(exc)

    def _fail_waiting(self, exc: Exception) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(exc)


def _ssl_context(kwargs: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=kwargs.get("ssl_ca_certs"))
    if str(kwargs.get("ssl_cert_reqs", "required")).lower() in ("none", "cert_none"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class PipelinedRedis:
    def __init__(self, url: str, *, timeout: float) -> None:
        self.settings: dict[str, Any] = dict(parse_url(url))
        self.timeout = timeout
        self._replies: _Replies | None = None
        self._opening: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, bytes] = {}  # sha -> source

    async def _open(self) -> _Replies:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): nothing of the old one is usable
            self._loop, self._replies, self._opening = loop, None, asyncio.Lock()
        replies = self._replies
        if replies is not None and not replies.closed:
            return replies
        assert self._opening is not None
        async with self._opening:
            if self._replies is not None and not self._replies.closed:
                return self._replies
            self._replies = await asyncio.wait_for(self._connect(loop), self.timeout)
            return self._replies

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Replies:
        s = self.settings
        try:
            if "path" in s:
                _, replies = await loop.create_unix_connection(_Replies, s["path"])
            else:
                secure = "SSL" in getattr(s.get("connection_class"), "__name__", "")
                tls = _ssl_context(s) if secure else None
                _, replies = await loop.create_connection(
                    _Replies, s.get("host", "localhost"), s.get("port", 6379), ssl=tls
                )
        except OSError as exc:
            raise ConnectionError(f"cannot connect to Redis: {exc}") from exc
        hello: list[tuple[Arg, ...]] = []
        if s.get("password"):
            user = s.get("username")
            hello.append(("AUTH", user, s["password"]) if user else ("AUTH", s["password"]))
        if s.get("db"):
            hello.append(("SELECT", s["db"]))
        for command in hello:
            await self._send(replies, command)
        return replies

    def _send(self, replies: _Replies, args: tuple[Arg, ...]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        replies.waiting.append(future)
        assert replies.transport is not None
        replies.transport.write(pack(args))
        return future

    async def call(self, *args: Arg) -> Any:
        """Send one command and wait for its reply (raises redis-py's errors)."""
        replies = await self._open()
        future = self._send(replies, args)
        try:
            async with asyncio.timeout(self.timeout):
                return await future  # a cancelled caller's reply is skipped when it comes
        except TimeoutError:
            replies.fail(RedisTimeout("Redis did not answer in time"))
            raise RedisTimeout(f"Redis did not answer within {self.timeout:g} s") from None

    async def transaction(self, *commands: tuple[Arg, ...]) -> list[Any]:
        """Run `commands` as one MULTI/EXEC (written in one go, so no other command of this
        connection comes between them); returns their replies."""
        replies = await self._open()
        sent = [self._send(replies, c) for c in (("MULTI",), *commands, ("EXEC",))]
        try:
            async with asyncio.timeout(self.timeout):
                for future in sent[:-1]:
                    await future  # OK / QUEUED, or the error of a malformed command
                result: list[Any] = await sent[-1]
                return result
        except TimeoutError:
            replies.fail(RedisTimeout("Redis did not answer in time"))
            raise RedisTimeout(f"Redis did not answer within {self.timeout:g} s") from None

    def script(self, source: str) -> str:
        """Register a Lua script; returns its SHA1 for `evalsha`."""
        sha = hashlib.sha1(source.encode()).hexdigest()
        self._scripts[sha] = source.encode()
        return sha

    async def evalsha(self, sha: str, keys: list[Arg], args: list[Arg]) -> Any:
        """Run a registered script (loading it first when Redis does not have it)."""
        command = ("EVALSHA", sha, len(keys), *keys, *args)
        try:
            return await self.call(*command)
        except NoScriptError:
            await self.call("SCRIPT", "LOAD", self._scripts[sha])
            return await self.call(*command)

    async def close(self) -> None:
        replies = self._replies
        self._replies = None
        if replies is not None and replies.transport is not None and not replies.closed:
            replies.closed = True
            replies.transport.close()
