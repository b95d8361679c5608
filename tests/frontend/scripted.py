"""A scripted, in-process SidecarClient: replays what a test wrote instead of a socket.

Each `generate()` takes the next `Script` from the client's queue (or a plain text reply
when the queue is empty): it either refuses the request (`refuse`, raised before any event
exists, as a sidecar ERROR or a failed connect would be) or returns a `ScriptedGeneration`
whose `batches()` replays the script's steps in order:

* a `Delta` or `Final`: a batch of that one message; a list of them: one batch;
* an exception (`RequestError`, `SidecarUnavailable`, anything): raised from `batches()`;
* `Pause(seconds)`: sleep, then go on (after an abort, the next step raises instead);
* `Hang(...)`: wait until the generation is aborted, then end the way the transport does:
  raise `SidecarUnavailable` (the Unix-socket client), stop quietly (what the Generation
  protocol's `abort` allows) or send `Final(ABORT)` (a sidecar answering a CANCEL).

The handshake and the ready flag are plain settable attributes; `requests`, `generations`
and `cancels` record what the frontend asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from frontend.client.base import Generation, SidecarClient
from frontend.client.errors import SidecarUnavailable
from inference.protocol import (
    PROTOCOL_VERSION,
    CountTokens,
    Delta,
    Final,
    FinishReason,
    GenerateRequest,
    Handshake,
    QueryReply,
    Started,
    StatsReply,
    TokenCount,
    ToolCallDelta,
    Usage,
)

MODEL = "scripted-model"


def make_handshake(**overrides: object) -> Handshake:
    fields: dict[str, object] = {
        "protocol_version": PROTOCOL_VERSION,
        "model_names": [MODEL],
        "max_model_len": 4096,
        "engine": "scripted",
        "tool_call_parser": "hermes",
        "reasoning_parser": None,
    }
    fields.update(overrides)
    return Handshake(**fields)  # type: ignore[arg-type]


@dataclass
class Pause:
    seconds: float


@dataclass
class Hang:
    """Wait for abort(); then `raise` SidecarUnavailable, `stop` quietly, or send `final`."""

    then: Literal["raise", "stop", "final"] = "raise"


Step = Delta | Final | list[Delta | Final] | BaseException | Pause | Hang


@dataclass
class Script:
    steps: list[Step] = field(default_factory=list)
    started: Started = field(default_factory=lambda: Started(prompt_tokens=5, max_tokens=100))
    refuse: BaseException | None = None  # generate() raises this instead


def usage(prompt: int = 5, completion: int = 3, cached: int = 0, reasoning: int = 0) -> Usage:
    return Usage(
        prompt_tokens=prompt,
        cached_tokens=cached,
        completion_tokens=completion,
        reasoning_tokens=reasoning,
    )


def reply(
    *texts: str,
    finish: FinishReason = FinishReason.STOP,
    error: str | None = None,
    reasoning: Sequence[str] = (),
) -> Script:
    """Reasoning deltas, then text deltas (one batch each), then the Final."""
    steps: list[Step] = [Delta(reasoning=r, tokens=1) for r in reasoning]
    steps += [Delta(text=t, tokens=1) for t in texts]
    steps.append(Final(finish_reason=finish, usage=usage(completion=len(steps)), error=error))
    return Script(steps)


def tool_call(name: str, *argument_chunks: str, call_id: str = "call_1", index: int = 0) -> Script:
    """One function call streamed in chunks, finished with TOOL_CALLS."""
    first = ToolCallDelta(index=index, id=call_id, name=name, arguments=argument_chunks[0])
    steps: list[Step] = [Delta(tool_calls=[first], tokens=1)]
    steps += [
        Delta(tool_calls=[ToolCallDelta(index=index, arguments=chunk)], tokens=1)
        for chunk in argument_chunks[1:]
    ]
    steps.append(Final(finish_reason=FinishReason.TOOL_CALLS, usage=usage()))
    return Script(steps)


_ABORTED = Final(finish_reason=FinishReason.ABORT, usage=Usage())


class ScriptedGeneration:
    def __init__(self, request: GenerateRequest, script: Script) -> None:
        self.request_id = request.request_id
        self.request = request
        self.started = script.started
        self.steps = list(script.steps)
        self.aborts = 0
        self.closes = 0
        self.finished = False  # a Final was handed out
        self.cancelled = False  # cancelled by request id (SidecarClient.cancel)
        self._wake = asyncio.Event()  # set by abort() and by a cancel by id

    @property
    def aborted(self) -> bool:
        return self.aborts > 0

    async def batches(self) -> AsyncIterator[list[Delta | Final]]:
        for step in self.steps:
            if self.cancelled:  # cancelled by id: the sidecar ends it with FINAL abort
                self.finished = True
                yield [_ABORTED]
                return
            if self.aborted:  # the socket client's next read fails once it is closed
                raise SidecarUnavailable("connection closed")
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, Pause):
                await self._wait(step.seconds)
                continue
            if isinstance(step, Hang):
                await self._wake.wait()
                if self.cancelled or step.then == "final":
                    self.finished = True
                    yield [_ABORTED]
                    return
                if step.then == "raise":
                    raise SidecarUnavailable("connection closed")
                return  # "stop"
            batch = step if isinstance(step, list) else [step]
            self.finished = any(isinstance(m, Final) for m in batch)
            yield list(batch)
            if self.finished:
                return

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def abort(self) -> None:
        self.aborts += 1
        self._wake.set()

    def cancel(self) -> None:
        """What a CANCEL by request id does: the sidecar answers FINAL abort here."""
        self.cancelled = True
        self._wake.set()

    async def close(self) -> None:
        self.closes += 1
        if not self.finished:
            self.abort()


class ScriptedClient:
    """A SidecarClient in-process; `handshake` and `ready` are settable."""

    def __init__(
        self,
        scripts: Iterable[Script] = (),
        *,
        handshake: Handshake | None = None,
        ready: bool = True,
    ) -> None:
        self.handshake: Handshake | None = handshake if handshake is not None else make_handshake()
        self.ready = ready
        self.scripts: list[Script] = list(scripts)
        self.requests: list[GenerateRequest] = []
        self.generations: list[ScriptedGeneration] = []
        self.cancels: list[tuple[str, str]] = []
        self.starts = 0
        self.stops = 0

    def add(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    @property
    def last(self) -> ScriptedGeneration:
        return self.generations[-1]

    async def generate(self, request: GenerateRequest) -> ScriptedGeneration:
        self.requests.append(request)
        script = self.scripts.pop(0) if self.scripts else reply("Hello", " there", "!")
        if script.refuse is not None:
            raise script.refuse
        generation = ScriptedGeneration(request, script)
        self.generations.append(generation)
        return generation

    async def cancel(self, request_id: str, reason: str = "client") -> bool:
        self.cancels.append((request_id, reason))
        for generation in self.generations:
            if generation.request_id == request_id and not generation.finished:
                generation.cancel()
                return True
        return False

    async def query(self, request_id: str) -> QueryReply:
        running = any(
            g.request_id == request_id and not (g.finished or g.aborted) for g in self.generations
        )
        return QueryReply(request_id=request_id, running=running)

    async def count_tokens(self, request: CountTokens) -> TokenCount:
        words = sum(len((m.content or "").split()) for m in request.messages)
        max_len = self.handshake.max_model_len if self.handshake else 0
        return TokenCount(tokens=words, max_model_len=max_len)

    async def stats(self) -> StatsReply:
        running = sum(not (g.finished or g.aborted) for g in self.generations)
        return StatsReply(running=running, total_requests=len(self.generations))

    async def start(self) -> None:
        self.starts += 1

    async def stop(self) -> None:
        self.stops += 1


def _conforms(client: ScriptedClient, generation: ScriptedGeneration) -> None:
    """mypy checks that the scripted classes keep the protocols' shapes."""
    _client: SidecarClient = client
    _generation: Generation = generation
