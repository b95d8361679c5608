"""vLLM's `--prefill-schedule-interval` on one engine: new prompts enter every Nth step.

vLLM admits new prefills only once every N engine steps when it runs data-parallel engines
(its DP engine core passes `throttle_prefills` to the scheduler), and ignores the flag for a
single engine. Under load a single engine is where it matters most: when arrivals trickle
in one by one, almost every step carries a few prompt tokens beside the running batch's
decode, and such a step costs vLLM's CPU-bound engine core more than a decode-only step
(docs/benchmarks.md, "Steps with prompt tokens"). How trickly the arrivals are depends on
the frontend (how many Sanic workers, how busy their event loops are), so without this the
engine's pace depends on the frontend's shape.

`install(config)` makes the flag work on one engine: it picks vLLM's own scheduler with a
step counter that asks for the same throttling on the steps between multiples of N. vLLM
keeps its rules: a throttled step still runs every decode; a step with no decode running
admits at once (an idle engine never waits); after a release that could not admit every
waiting request, the next steps admit too. Off unless asked for: on the H200 it capped the
prompt steps at 1/N for every frontend shape but made no worker count faster
(docs/benchmarks.md, "The prefill cadence").
"""

from __future__ import annotations

from typing import Any

from .vllm_api import AsyncScheduler, Scheduler

__all__ = ["CadencedAsyncScheduler", "CadencedScheduler", "install"]


class _Cadence:
    """Counts scheduler steps; asks vLLM to defer new prefills off the cadence."""

    interval: int
    cadence_step: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.interval = int(self.scheduler_config.prefill_schedule_interval)  # type: ignore[attr-defined]
        self.cadence_step = 0

    def schedule(self, throttle_prefills: bool = False) -> Any:
        self.cadence_step += 1
        off_cadence = self.interval > 1 and self.cadence_step % self.interval != 0
        return super().schedule(throttle_prefills or off_cadence)  # type: ignore[misc]


class CadencedScheduler(_Cadence, Scheduler):
    """vLLM's scheduler with the prefill cadence (engines without async scheduling)."""


class CadencedAsyncScheduler(_Cadence, AsyncScheduler):
    """vLLM's async scheduler with the prefill cadence (vLLM's default on a GPU)."""


def install(config: Any) -> bool:
    """Use the cadenced scheduler for a single engine whose interval is above 1.

    Left alone: an interval of 1 (vLLM's default), data-parallel engines (vLLM throttles
    those itself, aligned across ranks) and a scheduler class chosen with --scheduler-cls.
    Returns whether it installed the scheduler.
    """
    scheduler = config.scheduler_config
    if int(scheduler.prefill_schedule_interval) <= 1 or scheduler.scheduler_cls is not None:
        return False
    if int(config.parallel_config.data_parallel_size) > 1:
        return False
    chosen = CadencedAsyncScheduler if scheduler.async_scheduling else CadencedScheduler
    scheduler.scheduler_cls = f"{chosen.__module__}.{chosen.__qualname__}"
    return True
