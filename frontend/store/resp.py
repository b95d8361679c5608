"""Redis's wire format (RESP2) for the pipelined connection (pipelined.py): commands out,
replies in.

Owns the bytes only: `pack` writes a command as an array of bulk strings; `Reader` turns the
bytes Redis sends into replies, one by one, as they complete. The Reader is hiredis's (C)
when the package is installed (pyproject installs it), else `PyReader`, a plain Python one
that gives the same replies (simple strings as bytes, errors as `ReplyError`, nil as None),
so a machine without the wheel still works, only slower.
"""

from __future__ import annotations

from typing import Any, Protocol

Arg = bytes | str | int


def pack(args: tuple[Arg, ...]) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class ReplyError(Exception):
    """An error reply (`-ERR …`) of the pure-Python reader."""


class Reader(Protocol):
    def feed(self, data: bytes, /) -> None: ...

    def gets(self) -> Any:
        """The next complete reply, or False when none is complete yet."""
        ...


class _Incomplete(Exception):
    pass


class PyReader:
    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes, /) -> None:
        self._buffer += data

    def gets(self) -> Any:
        try:
            reply, end = self._parse(0)
        except _Incomplete:
            return False
        del self._buffer[:end]
        return reply

    def _line(self, start: int) -> tuple[bytes, int]:
        end = self._buffer.find(b"\r\n", start)
        if end < 0:
            raise _Incomplete
        return bytes(self._buffer[start + 1 : end]), end + 2

    def _parse(self, start: int) -> tuple[Any, int]:
        if start >= len(self._buffer):
            raise _Incomplete
        kind = self._buffer[start : start + 1]
        line, position = self._line(start)
        if kind == b"+":
            return line, position
        if kind == b"-":
            return ReplyError(line.decode(errors="replace")), position
        if kind == b":":
            return int(line), position
        if kind == b"$":
            size = int(line)
            if size < 0:
                return None, position
            if len(self._buffer) < position + size + 2:
                raise _Incomplete
            return bytes(self._buffer[position : position + size]), position + size + 2
        if kind == b"*":
            count = int(line)
            if count < 0:
                return None, position
            items = []
            for _ in range(count):
                item, position = self._parse(position)
                items.append(item)
            return items, position
        raise ValueError(f"not a RESP reply: {bytes(self._buffer[start : start + 20])!r}")


try:
    import hiredis

    def reader() -> Reader:
        return hiredis.Reader()

    ERRORS: tuple[type[Exception], ...] = (hiredis.ReplyError, ReplyError)
except ImportError:  # pragma: no cover - the wheel is a dependency; this keeps a bare box up

    def reader() -> Reader:
        return PyReader()

    ERRORS = (ReplyError,)
