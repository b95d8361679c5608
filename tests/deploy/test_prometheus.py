"""Portico's /metrics read by a real Prometheus: a stack with two Sanic workers (so the
multiprocess folder sums them) and the fake sidecar, known traffic, then Prometheus' query
API must give exactly what was sent: requests by route pattern and status, first tokens,
tokens, the sidecar up, and the engine's figures once per pod (not once per worker)."""

from __future__ import annotations

from tests.deploy.conftest import Observed

CREATE = 'route="/v1/responses",method="POST"'


def test_requests_by_route_and_status_are_what_was_sent(observed: Observed) -> None:
    p, sent = observed.prometheus, observed.traffic
    ok = sent.json_ok + sent.streams_ok
    assert p.value(f'sum(portico_requests_total{{{CREATE},status="200"}})') == ok
    assert p.value(f'sum(portico_requests_total{{{CREATE},status="404"}})') == sent.not_found
    assert p.value(f'sum(portico_requests_total{{{CREATE},status="400"}})') == sent.bad
    # the route label is the route's pattern, never the path with its id
    retrieve = 'portico_requests_total{route="/v1/responses/<response_id>",method="GET"}'
    assert p.value(f"sum({retrieve})") == sent.retrieved
    assert p.query('portico_requests_total{route=~".*resp_.*"}') == []
    # timed from a parsed body on (the malformed one was refused before)
    duration = 'sum(portico_request_duration_seconds_count{route="/v1/responses"})'
    assert p.value(duration) == ok + sent.not_found


def test_first_tokens_inter_token_latency_and_tokens(observed: Observed) -> None:
    p, sent = observed.prometheus, observed.traffic
    ok = sent.json_ok + sent.streams_ok + sent.continued  # every generation
    assert p.value("sum(portico_time_to_first_token_seconds_count)") == ok
    assert p.value('sum(portico_responses_total{status="completed"})') == ok
    # the paced streams' tokens each came alone: one observation per token after the first
    assert (p.value("sum(portico_inter_token_latency_seconds_count)") or 0) >= sent.streams_ok * 6
    assert (p.value("sum(portico_inter_token_latency_seconds_sum)") or 0) > 0
    assert p.value("sum(portico_input_tokens_total)") == sent.usage["input"]
    assert p.value("sum(portico_output_tokens_total)") == sent.usage["output"]
    assert p.value("sum(portico_cached_input_tokens_total)") == sent.usage["cached"]
    assert p.value("sum(portico_reasoning_tokens_total)") == sent.usage["reasoning"]
    # nothing left open
    for gauge in (
        "portico_requests_in_flight",
        "portico_requests_queued",
        "portico_streams_active",
    ):
        assert p.value(f"sum({gauge})") == 0, gauge


def test_the_sidecar_and_the_engine_figures_once_per_pod(observed: Observed) -> None:
    p, sent = observed.prometheus, observed.traffic
    assert p.value("portico_sidecar_up") == 1
    assert p.value("portico_engine_requests_running") == 0
    assert p.value("portico_engine_requests_waiting") == 0
    assert p.value("portico_engine_kv_cache_usage_ratio") == 0
    # the fake's generations and prefix-cache figures, counted once though two workers serve
    generations = sent.json_ok + sent.streams_ok + sent.continued
    assert p.value("portico_engine_generations_total") == generations
    assert p.value("portico_engine_prefix_cache_queried_tokens_total") == sent.usage["input"]
    assert p.value("portico_engine_prefix_cache_hit_tokens_total") == sent.usage["cached"]
    assert p.value("portico_engine_preemptions_total") == 0


def test_both_workers_counted_and_prometheus_read_their_sum(observed: Observed) -> None:
    """Each worker counted only the requests the kernel gave it; the scrape sums them."""
    (folder,) = observed.tmp.glob("portico-metrics-*")  # made by the frontend's main process
    pids = {path.stem.rsplit("_", 1)[-1] for path in folder.glob("counter_*.db")}
    assert len(pids) == 2, pids
    livez = 'sum(portico_requests_total{route="/livez",status="200"})'
    assert observed.prometheus.value(livez) == observed.traffic.livez
    assert observed.prometheus.value('up{job="portico"}') == 1


def test_tool_sessions_opened_continued_and_pending(observed: Observed) -> None:
    p, sent = observed.prometheus, observed.traffic
    assert p.value("sum(portico_tool_sessions_opened_total)") == sent.sessions_opened
    closed = 'sum(portico_tool_sessions_closed_total{reason="continued"})'
    assert p.value(closed) == sent.continued
    assert p.value("sum(portico_tool_sessions_pending)") == sent.sessions_opened - sent.continued
    route = 'route="/v1/responses/<response_id>/tool_outputs",status="200"'
    assert p.value(f"sum(portico_requests_total{{{route}}})") == sent.continued
