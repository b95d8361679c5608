"""charts/portico/dashboards/portico.json: every PromQL expression of Portico's Grafana
dashboard is evaluated by a real Prometheus scraping a real Portico (conftest.py) and must
parse and name only metrics Portico exports; the chart ships it in a ConfigMap labelled for
Grafana's dashboard sidecar, which validates against Kubernetes' schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import frontend.metrics  # noqa: F401  # registers every frontend metric
from frontend.engine_metrics import EngineFigures
from inference.protocol import StatsReply
from tests.deploy.conftest import Observed
from tests.deploy.test_chart import by_kind, render
from tests.deploy.tools import CHART, run, tool

DASHBOARD = CHART / "dashboards" / "portico.json"
# Grafana's variables, as a dashboard viewer would have them
VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "${job}": ".*", "$job": ".*"}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")
SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count", ""),
}


def exported() -> set[str]:
    """The sample names Portico's /metrics can carry: the frontend's metrics (all of them,
    those with no sample yet included) and the engine's relayed figures."""
    families = [f for f in REGISTRY.collect() if f.name.startswith("portico_")]
    families += list(EngineFigures(StatsReply(running=0, engine_figures=True)).collect())
    return {f.name + suffix for f in families for suffix in SUFFIXES[f.type]}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # a collapsed row's own
    return out


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]
    assert len(exprs) >= 20  # the catalogue is there
    return exprs


def substituted(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, expr  # a variable this test does not know
    return expr


def test_every_expression_parses_in_prometheus_and_names_portico_metrics(
    observed: Observed,
) -> None:
    names = exported()
    failures = []
    for expr in expressions():
        body = observed.prometheus.api(substituted(expr))
        if body["status"] != "success":
            failures.append(f"{expr}: {body.get('error')}")
        used = SELECTOR.findall(expr)
        assert used, f"no metric selector in {expr}"
        unknown = [name for name in used if name not in names]
        if unknown:
            failures.append(f"{expr}: not exported by Portico: {unknown}")
    assert not failures, "\n".join(failures)


def test_the_dashboard_shows_the_traffic(observed: Observed) -> None:
    """Not only parsed: the panels over metrics this traffic made have data."""
    prometheus = observed.prometheus
    with_data = [e for e in expressions() if prometheus.query(substituted(e))]
    for needed in (
        "portico_requests_total",
        "portico_time_to_first_token_seconds_bucket",
        "portico_inter_token_latency_seconds_bucket",
        "portico_output_tokens_total",
        "portico_engine_requests_running",
        "portico_engine_kv_cache_usage_ratio",
        "portico_sidecar_up",
    ):
        assert any(needed in e for e in with_data), needed


def test_the_job_variable_and_the_autoscaler_use_portico_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    (job,) = [v for v in dashboard["templating"]["list"] if v["name"] == "job"]
    assert re.search(r"label_values\((\w+), job\)", job["definition"]).group(1) in exported()  # type: ignore[union-attr]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["autoscaling"]["metric"] in exported()  # the HPA's metric is Portico's
    assert values["dashboard"]["enabled"] is False  # opt-in: needs Grafana's sidecar


def test_the_chart_ships_the_dashboard_for_grafanas_sidecar(tmp_path: Path) -> None:
    assert "ConfigMap" not in by_kind(render())  # off by default
    args = ("--set", "dashboard.enabled=true", "--set", "dashboard.annotations.grafana_folder=AI")
    docs = render(*args)
    (config_map,) = by_kind(docs)["ConfigMap"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "AI"}
    assert json.loads(config_map["data"]["portico.json"]) == json.loads(DASHBOARD.read_text())
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(run(tool("helm"), "template", "t", str(CHART), *args))
    out = run(tool("kubernetes-validate"), "--strict", str(manifest))
    passed = [line for line in out.splitlines() if line.startswith("INFO") and " passed " in line]
    assert len(passed) == len(docs), out
    assert any("configmap/t-portico-dashboard" in line for line in passed), out
