"""A shard's place on the engine: which engine client it is, of how many, and where.

Owns the one value the sidecar's first process hands each shard process it starts
(engine/shards.py), as one JSON command-line argument: the shard's index, the shard count,
the engine core's ZMQ addresses for that client (AsyncLLM's `client_addresses`) and the
first process's pid.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Slot:
    index: int
    count: int
    addresses: dict[str, Any] = field(default_factory=dict)
    parent: int = 0  # the pid of the sidecar's first process, which a shard dies with

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> Slot:
        data = json.loads(text)
        return cls(
            int(data["index"]),
            int(data["count"]),
            dict(data["addresses"]),
            int(data.get("parent", 0)),
        )
