"""The engine's own figures on /metrics, relayed from the sidecar's STATS at scrape time.

Owns the `portico_engine_*` metric names and how one StatsReply becomes them. The worker
that answers a scrape asks the sidecar once and adds these to its answer, so a pod's scrape
carries the engine's figures exactly once however many workers it has (they never reach the
multiprocess folder, where several workers' copies would be summed). When the sidecar does
not answer in time the scrape leaves them out, and `portico_sidecar_up` says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from inference.protocol import StatsReply

from .client.base import SidecarClient

log = logging.getLogger("portico.metrics")
STATS_TIMEOUT = 2.0  # seconds a scrape waits for the sidecar's STATS


class EngineFigures:
    """A collector of one StatsReply (one scrape's)."""

    def __init__(self, stats: StatsReply) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self.stats
        yield CounterMetricFamily(
            "portico_engine_generations",
            "Generations the engine started since the sidecar started",
            value=s.total_requests,
        )
        yield GaugeMetricFamily(
            "portico_engine_requests_unfinished",
            "Requests in the engine (running, waiting or being detokenized)",
            value=s.running,
        )
        if not s.engine_figures:  # an engine that reports no scheduler figures (yet)
            return
        yield GaugeMetricFamily(
            "portico_engine_requests_running",
            "Requests in the engine's running batch",
            value=s.engine_running,
        )
        yield GaugeMetricFamily(
            "portico_engine_requests_waiting",
            "Requests waiting in the engine's queue",
            value=s.engine_waiting,
        )
        yield GaugeMetricFamily(
            "portico_engine_kv_cache_usage_ratio",
            "Fraction of the engine's KV cache in use (0 to 1)",
            value=s.kv_cache_usage,
        )
        yield CounterMetricFamily(
            "portico_engine_prefix_cache_queried_tokens",
            "Prompt tokens looked up in the engine's prefix cache",
            value=s.prefix_cache_queries,
        )
        yield CounterMetricFamily(
            "portico_engine_prefix_cache_hit_tokens",
            "Prompt tokens found in the engine's prefix cache",
            value=s.prefix_cache_hits,
        )
        yield CounterMetricFamily(
            "portico_engine_preemptions",
            "Requests the engine's scheduler preempted",
            value=s.preemptions,
        )
        yield CounterMetricFamily(
            "portico_engine_steps",
            "Engine steps (scheduler iterations) since the sidecar started",
            value=s.engine_steps,
        )
        if not (s.engine_prefill_steps or s.engine_decode_steps):
            return  # no iteration details from vLLM (--enable-logging-iteration-details)
        steps = CounterMetricFamily(
            "portico_engine_steps_by_kind",
            "Engine steps that ran prompt tokens (prefill) or only generation (decode); "
            "counted with vLLM's --enable-logging-iteration-details",
            labels=["kind"],
        )
        steps.add_metric(["prefill"], s.engine_prefill_steps)
        steps.add_metric(["decode"], s.engine_decode_steps)
        yield steps


async def engine_figures(sidecar: SidecarClient | None, ready: bool) -> list[EngineFigures]:
    """This scrape's engine collector: [] while the sidecar is away or does not answer."""
    if sidecar is None or not ready:
        return []
    try:
        stats = await asyncio.wait_for(sidecar.stats(), STATS_TIMEOUT)
    except Exception as exc:  # a scrape never fails for the engine: its figures are left out
        log.warning("the sidecar did not answer STATS for /metrics: %s", exc)
        return []
    return [EngineFigures(stats)]
