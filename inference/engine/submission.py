"""One generation in vLLM, in two steps: accepted, then its outputs.

vLLM's `AsyncLLM.generate()` validates a request and waits for its first output in one
`anext`, so its caller learns that the request was accepted only with the first token, after
any queueing in the engine and the prefill. A `Submission` takes the same steps as
`generate()` does inside (vLLM 0.26 to 0.33) with a gap between them: `submit()` returns once
vLLM has accepted the request (its validation errors raise there), `outputs()` yields the
request's outputs, and `release()` aborts it in the engine unless it finished and frees its
queue. The sidecar answers STARTED in that gap, so a client's stream opens, and is kept
alive, while the request waits in the engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .vllm_api import STREAM_FINISHED


class Submission:
    """A request vLLM accepted: iterate `outputs()` once, then always `release()`."""

    def __init__(self, engine: Any, queue: Any) -> None:
        self.engine = engine
        self.queue = queue  # vLLM's RequestOutputCollector for this request
        self.finished = False

    @classmethod
    async def submit(
        cls, engine: Any, prompt: Any, params: Any, request_id: str, priority: int
    ) -> Submission:
        queue = await engine.add_request(request_id, prompt, params, priority=priority)
        return cls(engine, queue)

    async def outputs(self) -> AsyncIterator[Any]:
        """The request's RequestOutputs (several tokens each when the reader fell behind),
        up to the finished one."""
        queue = self.queue
        while not self.finished:
            output = queue.get_nowait() or await queue.get()
            self.finished = output.finished
            if output is not STREAM_FINISHED:
                yield output

    async def release(self) -> None:
        """Abort the request in the engine if it is still running, then drop its queue."""
        try:
            if not self.finished:
                await self.engine.abort(self.queue.request_id, internal=True)
        finally:
            self.queue.close()
