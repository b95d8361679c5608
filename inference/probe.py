"""`python -m inference.probe --socket PATH`: is the sidecar up and healthy? (an exec probe)

Owns the sidecar container's probe: one connection, HELLO then HEALTH, within a timeout,
to the socket and to every other shard its HANDSHAKE names (protocol/shards.py).
Exit code 0 when each answers HANDSHAKE with this protocol version and HEALTH_REPLY
healthy; otherwise 1 with one line on stderr saying why (no socket yet while the model loads,
a refused HELLO, an unhealthy engine, a timeout). Imports only the standard library and
inference.protocol (msgspec), so it starts in well under a second next to a loaded engine.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from .protocol import (
    PROTOCOL_VERSION,
    Error,
    FrameDecoder,
    Handshake,
    Health,
    HealthReply,
    Hello,
    ProtocolError,
    Struct,
    encode,
    shard_socket,
)

PROG = "python -m inference.probe"


class ProbeFailed(Exception):
    """The sidecar is not ready or not healthy; the message is the one line to print."""


def _next_message(sock: socket.socket, decoder: FrameDecoder, pending: list[Struct]) -> Struct:
    while not pending:
        data = sock.recv(65536)
        if not data:
            raise ProbeFailed("the sidecar closed the connection")
        pending.extend(decoder.feed(data))
    return pending.pop(0)


def probe(path: str, timeout: float = 5.0) -> str:
    """HELLO then HEALTH on the socket at `path` and on every other shard, all within
    `timeout` seconds: a short description of the healthy sidecar, or ProbeFailed naming
    what went wrong."""
    deadline = time.monotonic() + timeout
    first = _probe_one(path, deadline, timeout)
    for index in range(1, first.shards):
        _probe_one(shard_socket(path, index), deadline, timeout)
    shards = f", {first.shards} shards" if first.shards > 1 else ""
    return f"healthy: {', '.join(first.model_names)} ({first.engine}{shards})"


def _probe_one(path: str, deadline: float, timeout: float) -> Handshake:
    """One socket's HELLO and HEALTH, by the deadline of the whole probe (`timeout` long)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.connect(path)
            # HEALTH is pipelined behind HELLO: one round trip.
            sock.sendall(encode(Hello(protocol_version=PROTOCOL_VERSION)) + encode(Health()))
            decoder, pending = FrameDecoder(), list[Struct]()
            hello = _next_message(sock, decoder, pending)
            if isinstance(hello, Error):
                raise ProbeFailed(f"the sidecar refused HELLO: {hello.code.value}: {hello.message}")
            if not isinstance(hello, Handshake):
                raise ProbeFailed(f"expected HANDSHAKE, got {type(hello).__name__}")
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            health = _next_message(sock, decoder, pending)
            if not isinstance(health, HealthReply):
                raise ProbeFailed(f"expected HEALTH_REPLY, got {type(health).__name__}")
            if not health.healthy:
                raise ProbeFailed(f"the engine is unhealthy: {health.detail or 'no detail'}")
            return hello
    except TimeoutError:
        raise ProbeFailed(f"no answer from {path} within {timeout:g} s") from None
    except FileNotFoundError:
        raise ProbeFailed(f"no socket at {path} (the sidecar is not listening yet)") from None
    except ConnectionRefusedError:
        raise ProbeFailed(f"connection refused at {path} (the sidecar is not listening)") from None
    except ProtocolError as exc:
        raise ProbeFailed(f"bad frame from the sidecar: {exc}") from None
    except OSError as exc:
        raise ProbeFailed(f"cannot reach {path}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="the sidecar's Unix socket")
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds for the whole probe (default 5)"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing when healthy")
    ns = parser.parse_args(argv)
    try:
        line = probe(ns.socket, ns.timeout)
    except ProbeFailed as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        sys.exit(1)
    if not ns.quiet:
        print(line)


if __name__ == "__main__":
    main()
