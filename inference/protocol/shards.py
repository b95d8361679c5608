"""Where a sharded sidecar listens: one socket per shard, named after the first.

A sidecar may run several shards (`--api-server-count`): processes that each own an engine
client on one engine core, and a socket of its own. Shard 0 listens on the socket the
sidecar was given; shard i on that path with `.i` appended. Every HANDSHAKE says how many
shards there are, so a client that connected to the first finds the others.
"""

from __future__ import annotations


def shard_socket(path: str, index: int) -> str:
    """The socket of shard `index` of the sidecar whose first socket is `path`."""
    if index < 0:
        raise ValueError(f"a shard index is 0 or more, not {index}")
    return path if index == 0 else f"{path}.{index}"
