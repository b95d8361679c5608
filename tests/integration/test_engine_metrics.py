"""The engine's own figures from a real vLLM: the stat logger (inference/engine/figures.py)
receives the scheduler's stats, STATS relays them, and /metrics shows them once."""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import MODEL
from tests.stack import Stack


def engine_samples(stack: Stack) -> dict[str, list[float]]:
    text = httpx.get(stack.url("/metrics"), timeout=30).text
    out: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith("portico_engine_"):
                out.setdefault(s.name, []).append(s.value)
    return out


def test_vllm_reports_its_scheduler_figures(real_stack: Stack) -> None:
    prompt = "Say hello. " * 20  # long enough to fill a few KV blocks and query the cache
    for _ in range(2):  # the second lookup of the same prompt can hit the prefix cache
        body = {"model": MODEL, "input": prompt, "max_output_tokens": 8}
        reply = httpx.post(real_stack.url("/v1/responses"), json=body, timeout=300)
        assert reply.status_code == 200, reply.text
    deadline = time.monotonic() + 30
    found = engine_samples(real_stack)
    while "portico_engine_requests_running" not in found and time.monotonic() < deadline:
        time.sleep(0.5)
        found = engine_samples(real_stack)
    for name in (
        "portico_engine_requests_running",
        "portico_engine_requests_waiting",
        "portico_engine_kv_cache_usage_ratio",
        "portico_engine_prefix_cache_queried_tokens_total",
        "portico_engine_prefix_cache_hit_tokens_total",
        "portico_engine_preemptions_total",
    ):
        assert len(found.get(name, [])) == 1, (name, found)  # exactly once
    assert found["portico_engine_requests_running"] == [0]  # both answered
    assert 0 <= found["portico_engine_kv_cache_usage_ratio"][0] <= 1
    assert found["portico_engine_prefix_cache_queried_tokens_total"][0] > 0
    assert found["portico_engine_generations_total"][0] >= 2
    # two generations of 8 tokens, one after the other: at least 16 engine steps
    assert found["portico_engine_steps_total"][0] >= 16
