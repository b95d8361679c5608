"""inference/engine/figures.py against vLLM's own stat logger machinery: the logger vLLM
builds from our factory receives SchedulerStats and IterationStats and keeps the figures
STATS relays (gauges from the latest step, counters summed, engines summed)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("vllm")

from vllm.v1.metrics.loggers import StatLoggerManager
from vllm.v1.metrics.stats import (
    IterationStats,
    PrefixCacheStats,
    SchedulerIterationDetails,
    SchedulerStats,
)

from inference.engine.figures import EngineFigures


def step(running: int, waiting: int, usage: float, queries: int, hits: int) -> SchedulerStats:
    prefix = PrefixCacheStats(requests=1, queries=queries, hits=hits)
    return SchedulerStats(
        num_running_reqs=running,
        num_waiting_reqs=waiting,
        kv_cache_usage=usage,
        prefix_cache_stats=prefix,
    )


def preempting(count: int) -> IterationStats:
    stats = IterationStats()
    stats.num_preempted_reqs = count
    return stats


def adapter(figures: EngineFigures, engines: list[int]) -> Any:
    """What vLLM's StatLoggerManager makes of our factory (without its logging logger)."""
    return StatLoggerManager(
        vllm_config=None,  # type: ignore[arg-type]  # our logger does not read it
        engine_idxs=engines,
        custom_stat_loggers=[figures.factory()],
        enable_default_loggers=False,
    )


def test_vllm_leaves_its_own_prometheus_logger_out() -> None:
    """The sidecar serves no vLLM metrics: our logger stands in for vLLM's Prometheus one,
    whose per-step work would be spent for nothing."""
    manager = adapter(EngineFigures(), [0, 1])
    assert [type(logger).__name__ for logger in manager.stat_loggers] == ["FigureLogger"]


def test_the_logger_keeps_the_latest_gauges_and_sums_the_counters() -> None:
    figures = EngineFigures()
    assert not figures.reported
    logger = adapter(figures, [0])
    logger.record(step(3, 1, 0.25, 100, 40), preempting(0), engine_idx=0)
    logger.record(step(5, 2, 0.5, 10, 10), preempting(2), engine_idx=0)
    logger.record(None, preempting(1), engine_idx=0)  # a step without scheduler stats
    assert figures.reported and figures.updated > 0  # when, for the freshest shard's gauges
    assert (figures.running, figures.waiting, figures.kv_cache_usage) == (5, 2, 0.5)
    assert (figures.prefix_cache_queries, figures.prefix_cache_hits) == (110, 50)
    assert figures.preemptions == 3


def test_data_parallel_engines_add_up() -> None:
    figures = EngineFigures()
    logger = adapter(figures, [0, 1])
    logger.record(step(3, 1, 0.2, 8, 4), None, engine_idx=0)
    logger.record(step(4, 0, 0.6, 2, 1), None, engine_idx=1)
    assert (figures.running, figures.waiting) == (7, 1)
    assert figures.kv_cache_usage == pytest.approx(0.4)
    assert (figures.prefix_cache_queries, figures.prefix_cache_hits) == (10, 5)


def test_steps_are_the_scheduler_figures_received() -> None:
    """Each engine step's scheduler stats reach one client: a step without them went to
    another shard (or carried none) and is not counted here."""
    figures = EngineFigures()
    logger = adapter(figures, [0])
    for _ in range(3):
        logger.record(step(2, 0, 0.1, 0, 0), None, engine_idx=0)
    logger.record(None, preempting(0), engine_idx=0)
    assert figures.steps == 3


def detailed(ctx_tokens: int, dummy: bool = False) -> SchedulerStats:
    """A step's scheduler stats with vLLM's iteration details attached."""
    stats = step(4, 0, 0.1, 0, 0)
    stats.iteration_details = SchedulerIterationDetails(
        iteration_index=0,
        num_ctx_requests=1 if ctx_tokens else 0,
        num_ctx_tokens=ctx_tokens,
        num_generation_requests=4,
        num_generation_tokens=4,
        elapsed_ms=0.2,
        is_dummy=dummy,
    )
    return stats


def test_iteration_details_split_the_steps_into_prefill_and_decode() -> None:
    """With vLLM's --enable-logging-iteration-details each step says whether it ran prompt
    tokens; without them no step is given a kind."""
    figures = EngineFigures()
    logger = adapter(figures, [0])
    logger.record(detailed(120), None, engine_idx=0)
    logger.record(detailed(0), None, engine_idx=0)
    logger.record(detailed(0), None, engine_idx=0)
    logger.record(detailed(0, dummy=True), None, engine_idx=0)  # a DP dummy step
    logger.record(step(4, 0, 0.1, 0, 0), None, engine_idx=0)  # no details
    assert figures.steps == 5
    assert (figures.prefill_steps, figures.decode_steps) == (1, 2)
