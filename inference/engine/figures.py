"""The engine's own scheduler figures, for STATS: running and waiting requests, KV-cache
usage, prefix-cache lookups and hits, preemptions, engine steps, and, where vLLM's
`--enable-logging-iteration-details` is on, the steps that ran prompt tokens (prefill) or only
generation (decode).

Owns a vLLM v1 stat logger (`FigureLogger`, handed to AsyncLLM as a factory) that vLLM
calls after every engine step with its SchedulerStats and IterationStats, and the
running totals it keeps (`EngineFigures`). Gauges are the last step's; counters add up
since the sidecar started. With data parallelism every engine reports its own: running and
waiting add up, KV-cache usage is their mean.

Each step's scheduler figures reach one AsyncLLM client only (vLLM hands them to the first
client with outputs that step), so with shards every shard counts the steps it was told of
and the shards' counts add up to the engine's steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .vllm_api import PrometheusStatLogger


@dataclass
class _Latest:
    running: int = 0
    waiting: int = 0
    kv_cache_usage: float = 0.0


@dataclass
class EngineFigures:
    """What the stat loggers of every engine reported, summed."""

    engines: dict[int, _Latest] = field(default_factory=dict)
    prefix_cache_queries: int = 0
    prefix_cache_hits: int = 0
    preemptions: int = 0
    steps: int = 0  # engine steps whose scheduler figures reached this process
    # with vLLM's iteration details: the steps that ran prompt tokens, and the others
    prefill_steps: int = 0
    decode_steps: int = 0
    updated: float = 0.0  # time.monotonic() of the last scheduler stats

    @property
    def reported(self) -> bool:
        return bool(self.engines)

    @property
    def running(self) -> int:
        return sum(e.running for e in self.engines.values())

    @property
    def waiting(self) -> int:
        return sum(e.waiting for e in self.engines.values())

    @property
    def kv_cache_usage(self) -> float:
        if not self.engines:
            return 0.0
        return sum(e.kv_cache_usage for e in self.engines.values()) / len(self.engines)

    def record(self, engine: int, scheduler: Any, iteration: Any) -> None:
        """One engine step's stats (either may be None: vLLM sends what it has)."""
        if scheduler is not None:
            self.updated = time.monotonic()
            latest = self.engines.setdefault(engine, _Latest())
            latest.running = int(scheduler.num_running_reqs)
            latest.waiting = int(scheduler.num_waiting_reqs)
            latest.kv_cache_usage = float(scheduler.kv_cache_usage)
            self.steps += 1
            self._kind(getattr(scheduler, "iteration_details", None))
            prefix = getattr(scheduler, "prefix_cache_stats", None)
            if prefix is not None:
                self.prefix_cache_queries += int(prefix.queries)
                self.prefix_cache_hits += int(prefix.hits)
        if iteration is not None:
            self.preemptions += int(getattr(iteration, "num_preempted_reqs", 0))

    def _kind(self, details: Any) -> None:
        """A step's iteration details (vLLM's SchedulerIterationDetails, or None where off):
        prefill when it ran any prompt tokens. (Their elapsed_ms is left out: it times only
        the wait for a model output that async scheduling has mostly ready, ~0.2 ms on an
        H200.)"""
        if details is None or getattr(details, "is_dummy", False):
            return
        if int(details.num_ctx_tokens) > 0:
            self.prefill_steps += 1
        else:
            self.decode_steps += 1

    def factory(self) -> Any:
        """The stat logger factory AsyncLLM takes (`stat_loggers=[...]`): one logger for
        every engine, called with each engine's index.

        It is a PrometheusStatLogger to vLLM, which then leaves its own out: the sidecar
        serves no vLLM metrics endpoint (the frontend publishes these figures), and that
        logger's per-step work was 4 % of the sidecar's time at 256 streams on an H200."""
        figures = self

        class FigureLogger(PrometheusStatLogger):
            def __init__(self, vllm_config: Any, engine_indexes: list[int] | None = None) -> None:
                self.engine_indexes = engine_indexes or [0]  # no Prometheus metrics made

            def record(
                self,
                scheduler_stats: Any,
                iteration_stats: Any,
                mm_cache_stats: Any = None,
                engine_idx: int | None = 0,
                *args: Any,
                **kwargs: Any,
            ) -> None:
                figures.record(int(engine_idx or 0), scheduler_stats, iteration_stats)

            def record_sleep_state(self, *args: Any, **kwargs: Any) -> None:
                return None

            def record_admission_rejection(self, *args: Any, **kwargs: Any) -> None:
                return None  # vLLM 0.32+

            def log(self) -> None:
                return None

            def log_engine_initialized(self) -> None:
                return None

        return FigureLogger
