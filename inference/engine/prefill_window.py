"""When a new generation enters the engine (`--prefill-window-ms`).

vLLM's engine core adds the requests that reached it between two steps to the next step, so
under a steady stream of arrivals nearly every step carries some prompt tokens beside the
running batch's decode, and such a step costs the engine core more than a decode-only one.
A window holds each new generation, while this process already has others running, until
the next multiple of the window on the wall clock; everything that arrived meanwhile is
released together and its prefill shares steps. Shards and data-parallel clients share the
wall clock, so they release at the same instants. With nothing else running (an idle server,
one client at a time) a generation enters at once; a window of 0 turns the hold off.

Owns the hold only: which generations count as running is the caller's (engine/runner.py).
"""

from __future__ import annotations

import asyncio
import time


class PrefillWindow:
    """Releases held generations at the wall clock's multiples of `window_s`."""

    def __init__(self, window_s: float) -> None:
        if window_s < 0:
            raise ValueError("--prefill-window-ms must not be negative")
        self.window_s = window_s
        self._gates: dict[float, asyncio.Future[None]] = {}

    async def enter(self, busy: bool) -> None:
        """Return when a new generation may enter: at once when the window is off or
        nothing else runs, else at the window's next boundary."""
        if self.window_s <= 0 or not busy:
            return
        now = time.time()
        boundary = (now // self.window_s + 1) * self.window_s
        gate = self._gates.get(boundary)
        if gate is None:
            loop = asyncio.get_running_loop()
            gate = self._gates[boundary] = loop.create_future()
            loop.call_later(boundary - now, self._open, boundary)
        # shielded: a generation cancelled while it waits (its client left) leaves the gate
        # to the others
        await asyncio.shield(gate)

    def _open(self, boundary: float) -> None:
        gate = self._gates.pop(boundary, None)
        if gate is not None and not gate.done():
            gate.set_result(None)

    @property
    def held(self) -> int:
        """Boundaries with generations waiting on them (0 or 1 but for a slow loop)."""
        return len(self._gates)
