"""The client of a sharded sidecar: one Unix-socket client per shard, used as one.

Owns finding the shards and spreading the work over them. A sidecar started with
`--api-server-count N` runs N shards, each an engine client with a socket of its own
(inference/protocol/shards.py); every HANDSHAKE says how many there are. This client starts
on the first socket, opens a client for each other shard once the handshake names them (and
drops the extra ones of a sidecar restarted with fewer), and then:

- sends each generation (and each token count) to the next ready shard in turn, starting
  at a random shard (so several workers do not all begin with the same one), and passes a
  generation a full shard refused (QUEUE_FULL) on to the next;
- asks every shard for a CANCEL or QUERY by request id, since any worker may ask about a
  generation another worker started on any shard; a shard that cannot be asked is one that
  does not run it (an error only when no shard answers);
- adds up STATS: counts and counters sum, the engine's gauges (running, waiting, KV-cache
  usage) are the freshest shard's (vLLM sends each step's figures to one shard);
- is ready only when every shard is.

With one shard it is the first socket's client and nothing more.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from inference.protocol import (
    CountTokens,
    ErrorCode,
    GenerateRequest,
    Handshake,
    QueryReply,
    RequestError,
    StatsReply,
    TokenCount,
    shard_socket,
)

from .uds import UdsGeneration, UdsSidecarClient

T = TypeVar("T")


class ShardedSidecarClient:
    """The SidecarClient (client/base.py) of every shard of the sidecar at `path`;
    `options` are UdsSidecarClient's, for each shard."""

    def __init__(
        self,
        path: str,
        *,
        on_health: Callable[[bool], None] | None = None,
        **options: Any,
    ) -> None:
        self.path = path
        self._options = options
        self._on_health = on_health
        self.shards: list[UdsSidecarClient] = [self._client(0)]
        self._turn = random.randrange(1 << 16)
        self._tasks: set[asyncio.Task[None]] = set()  # shard clients starting or stopping

    def _client(self, index: int) -> UdsSidecarClient:
        return UdsSidecarClient(
            shard_socket(self.path, index), on_health=self._health, **self._options
        )

    def _health(self, up: bool) -> None:
        """A shard's health watch reported: open the shards its handshake names, and tell
        the owner (the sidecar_up gauge) whether the whole sidecar is ready."""
        handshake = self.shards[0].handshake
        if handshake is not None and handshake.shards != len(self.shards):
            loop = asyncio.get_running_loop()
            for index in range(len(self.shards), handshake.shards):
                shard = self._client(index)
                self.shards.append(shard)
                self._spawn(loop.create_task(shard.start()))
            for gone in self.shards[max(1, handshake.shards) :]:  # restarted with fewer
                self._spawn(loop.create_task(gone.stop()))
            del self.shards[max(1, handshake.shards) :]
        if self._on_health is not None:
            self._on_health(self.ready)

    def _spawn(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def handshake(self) -> Handshake | None:
        return self.shards[0].handshake

    @property
    def ready(self) -> bool:
        handshake = self.shards[0].handshake
        expected = handshake.shards if handshake is not None else 1
        return len(self.shards) >= expected and all(shard.ready for shard in self.shards)

    def _in_turn(self) -> list[UdsSidecarClient]:
        """The ready shards, the next in turn first (the first shard when none is ready:
        asking it raises what is wrong)."""
        count = len(self.shards)
        self._turn = (self._turn + 1) % count
        order = [self.shards[(self._turn + i) % count] for i in range(count)]
        return [shard for shard in order if shard.ready] or [self.shards[0]]

    async def generate(self, request: GenerateRequest) -> UdsGeneration:
        shards = self._in_turn()
        for shard in shards[:-1]:
            try:
                return await shard.generate(request)
            except RequestError as exc:
                if exc.code != ErrorCode.QUEUE_FULL:
                    raise  # only a full shard passes the generation on
        return await shards[-1].generate(request)

    async def count_tokens(self, request: CountTokens) -> TokenCount:
        return await self._in_turn()[0].count_tokens(request)

    async def _each(self, ask: Callable[[UdsSidecarClient], Awaitable[T]]) -> list[T]:
        """The answer of every shard that answered; raises only when none did."""
        if len(self.shards) == 1:
            return [await ask(self.shards[0])]
        answers = await asyncio.gather(*(ask(s) for s in self.shards), return_exceptions=True)
        answered = [a for a in answers if not isinstance(a, BaseException)]
        if not answered:
            raise next(a for a in answers if isinstance(a, BaseException))
        return answered

    async def cancel(self, request_id: str, reason: str = "client") -> bool:
        """Abort the generation with this id on whichever shard runs it."""
        return any(await self._each(lambda shard: shard.cancel(request_id, reason)))

    async def query(self, request_id: str) -> QueryReply:
        replies = await self._each(lambda shard: shard.query(request_id))
        return next((reply for reply in replies if reply.running), replies[0])

    async def stats(self) -> StatsReply:
        replies = await self._each(lambda shard: shard.stats())
        fresh = max(replies, key=lambda r: r.figures_at)
        return StatsReply(
            running=sum(r.running for r in replies),
            total_requests=sum(r.total_requests for r in replies),
            engine_figures=any(r.engine_figures for r in replies),
            engine_running=fresh.engine_running,
            engine_waiting=fresh.engine_waiting,
            kv_cache_usage=fresh.kv_cache_usage,
            prefix_cache_queries=sum(r.prefix_cache_queries for r in replies),
            prefix_cache_hits=sum(r.prefix_cache_hits for r in replies),
            preemptions=sum(r.preemptions for r in replies),
            figures_at=fresh.figures_at,
            engine_steps=sum(r.engine_steps for r in replies),
            engine_prefill_steps=sum(r.engine_prefill_steps for r in replies),
            engine_decode_steps=sum(r.engine_decode_steps for r in replies),
        )

    async def start(self) -> None:
        await self.shards[0].start()

    async def stop(self) -> None:
        for task in list(self._tasks):  # shard clients still starting or stopping
            await task
        for shard in self.shards:  # in this task: a stop may run on a test client's loop
            await shard.stop()
