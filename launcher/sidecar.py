"""The sidecar as the launcher sees it: its command line, and whether it answers yet.

Owns the embedded model's defaults (served as SmolLM2-135M-Instruct with the hermes tool
parser and an 8k context, each overridable by the user's own vLLM flag) and the handshake
probe: one blocking HELLO on the socket (and on every other shard it names), the way a
frontend worker opens a connection.
"""

from __future__ import annotations

import socket
import sys

from inference.protocol import PROTOCOL_VERSION, Handshake, Hello, encode, shard_socket
from inference.protocol.framing import FrameDecoder

EMBEDDED_NAME = "SmolLM2-135M-Instruct"


class ModelMissing(Exception):
    """The embedded model has not been converted yet (scripts/install.sh does it)."""


def sidecar_command(*, fake: bool, model: str | None, extra: list[str], sock: str) -> list[str]:
    cmd = [sys.executable, "-m", "inference", "--socket", sock]
    if fake:
        return [*cmd, "--fake", *extra]
    if model is not None:
        return [*cmd, "--model", model, *extra]
    from inference.embedded_model import TOOL_CALL_PARSER, default_model_dir

    path = default_model_dir()
    if not (path / ".complete").exists():
        raise ModelMissing(
            f"the embedded model is not converted yet ({path}): run scripts/install.sh"
        )
    defaults = {
        "--served-model-name": EMBEDDED_NAME,
        "--max-model-len": "8192",
        "--tool-call-parser": TOOL_CALL_PARSER,
    }
    chosen = {a.split("=")[0].replace("_", "-") for a in extra}
    for flag, value in defaults.items():
        if flag not in chosen:
            cmd += [flag, value]
    return [*cmd, "--model", str(path), *extra]


def handshake(sock: str, timeout: float = 5.0) -> Handshake | None:
    """The sidecar's handshake once every shard answers one (a sharded sidecar's first
    socket names the others), or None if not up yet."""
    first = _hello(sock, timeout)
    if first is None:
        return None
    for index in range(1, first.shards):
        if _hello(shard_socket(sock, index), timeout) is None:
            return None
    return first


def _hello(sock: str, timeout: float) -> Handshake | None:
    """One blocking HELLO on one socket: its handshake, or None."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(sock)
            s.sendall(encode(Hello(protocol_version=PROTOCOL_VERSION)))
            decoder = FrameDecoder()
            while True:
                data = s.recv(65536)
                if not data:
                    return None
                for message in decoder.feed(data):
                    return message if isinstance(message, Handshake) else None
    except OSError:
        return None
