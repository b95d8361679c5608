"""inference/engine/prefill_window.py: new generations held to the wall clock's boundaries
while others run, released together, never held when the server is idle or the window off."""

from __future__ import annotations

import asyncio
import time

import pytest

from inference.engine.prefill_window import PrefillWindow


async def test_off_or_idle_enters_at_once() -> None:
    for window, busy in ((PrefillWindow(0.0), True), (PrefillWindow(5.0), False)):
        started = time.monotonic()
        await asyncio.wait_for(window.enter(busy=busy), timeout=1.0)
        assert time.monotonic() - started < 0.5
        assert window.held == 0


async def test_busy_arrivals_are_released_together_at_the_next_boundary() -> None:
    window = PrefillWindow(0.2)
    released: list[float] = []

    async def arrive(delay: float) -> None:
        await asyncio.sleep(delay)
        await window.enter(busy=True)
        released.append(time.time())

    await asyncio.wait_for(asyncio.gather(*(arrive(i * 0.01) for i in range(5))), timeout=2.0)
    assert window.held == 0
    # one boundary at most 0.2 s away (or two, when the arrivals straddled one)
    boundaries = {round(t / 0.2) for t in released}
    assert len(boundaries) <= 2
    for t in released:  # each released at (just after) a multiple of the window
        assert abs(t / 0.2 - round(t / 0.2)) * 0.2 < 0.05
    assert max(released) - min(released) < 0.25


async def test_a_cancelled_waiter_leaves_the_others_their_gate() -> None:
    window = PrefillWindow(0.3)
    leaving = asyncio.create_task(window.enter(busy=True))
    staying = asyncio.create_task(window.enter(busy=True))
    await asyncio.sleep(0.01)
    leaving.cancel()
    await asyncio.wait_for(staying, timeout=1.0)  # released at the boundary all the same
    assert leaving.cancelled()
    assert window.held == 0


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError):
        PrefillWindow(-1.0)
