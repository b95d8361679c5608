"""charts/portico: `helm lint --strict`, renders with the defaults and with every option on
(values-all.yaml) that validate offline against Kubernetes' schemas (kubernetes-validate
--strict), the pod's wiring (socket, user, GPUs, probes, shutdown order), and every value
documented in values.yaml and declared in values.schema.json."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.tools import CHART, ROOT, run, tool

ALL = ROOT / "tests" / "deploy" / "values-all.yaml"
UID = 10001  # the Dockerfile's portico user


def render(*args: str) -> list[dict[str, Any]]:
    text = run(tool("helm"), "template", "t", str(CHART), *args)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_kind(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    kinds: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], []).append(doc)
    return kinds


def server(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The Portico Deployment's pod spec."""
    (deployment,) = [
        d
        for d in by_kind(docs)["Deployment"]
        if d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
    ]
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def containers(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod["containers"]}


@pytest.mark.parametrize("values", [[], ["-f", str(ALL)]], ids=["defaults", "all-options"])
def test_helm_lint_strict(values: list[str]) -> None:
    run(tool("helm"), "lint", "--strict", str(CHART), *values)


@pytest.mark.parametrize("values", [[], ["-f", str(ALL)]], ids=["defaults", "all-options"])
def test_manifests_validate_against_kubernetes_schemas(values: list[str], tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(run(tool("helm"), "template", "t", str(CHART), *values))
    out = run(tool("kubernetes-validate"), "--strict", str(manifest))
    lines = [line for line in out.splitlines() if line.strip()]
    passed = [line for line in lines if line.startswith("INFO") and " passed " in line]
    others = [line for line in lines if line not in passed]
    docs = render(*values)
    # Every resource is checked, but the ServiceMonitor: Kubernetes has no schema for a CRD
    # (its few fields are checked in test_every_option_renders below).
    crds = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert len(passed) == len(docs) - len(crds), out
    assert len(others) == len(crds) and all("ServiceMonitor" in line for line in others), out


def test_the_pod_shares_the_socket_as_one_user_and_asks_for_gpus() -> None:
    pod = server(render())
    assert pod["securityContext"] | {"seccompProfile": None} == {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": None,
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["socket"]["emptyDir"]["medium"] == "Memory"
    c = containers(pod)
    assert list(c) == ["frontend", "inference"]
    for container in c.values():
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["socket"] == "/run/portico"
    env = {e["name"]: e.get("value") for e in c["frontend"]["env"]}
    assert env["PORTICO_SIDECAR_SOCKET"] == "/run/portico/sidecar.sock"
    args = c["inference"]["args"]
    assert args[:2] == ["--socket", "/run/portico/sidecar.sock"]
    assert args[args.index("--model") + 1] == "Qwen/Qwen3-8B"
    assert "--api-server-count" not in args  # the sidecar's own default shards
    resources = c["inference"]["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == 1


def test_probes_follow_the_sidecar_and_never_restart_a_slow_engine() -> None:
    c = containers(server(render()))
    frontend, inference = c["frontend"], c["inference"]
    assert frontend["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert frontend["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert "startupProbe" not in frontend  # it starts in seconds; the engine is the slow one
    for probe in ("startupProbe", "livenessProbe"):
        command = inference[probe]["exec"]["command"]
        assert command[:3] == ["python3", "-m", "inference.probe"]
        assert command[command.index("--socket") + 1] == "/run/portico/sidecar.sock"
        timeout = float(command[command.index("--timeout") + 1])
        assert timeout < inference[probe]["timeoutSeconds"]  # it answers before kubelet gives up
    startup = inference["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800  # a model's load


@pytest.mark.parametrize("values", [[], ["-f", str(ALL)]], ids=["defaults", "all-options"])
def test_the_frontend_drains_before_the_sidecar_stops(values: list[str]) -> None:
    pod = server(render(*values))
    c = containers(pod)
    frontend_wait = int(c["frontend"]["lifecycle"]["preStop"]["exec"]["command"][1])
    env = {e["name"]: e.get("value") for e in c["frontend"]["env"]}
    frontend_drain = int(env["PORTICO_GRACEFUL_SHUTDOWN_TIMEOUT"])
    sidecar_wait = int(c["inference"]["lifecycle"]["preStop"]["exec"]["command"][1])
    args = c["inference"]["args"]
    sidecar_drain = int(args[args.index("--drain-timeout") + 1])
    assert sidecar_wait > frontend_wait + frontend_drain
    assert pod["terminationGracePeriodSeconds"] >= sidecar_wait + sidecar_drain


def test_the_secret_holds_a_reasoning_key_made_at_install() -> None:
    (secret,) = by_kind(render())["Secret"]
    keys = base64.b64decode(secret["data"]["PORTICO_REASONING_KEYS"]).decode()
    assert len(base64.b64decode(keys)) == 32  # one key, as frontend/sealing.py wants it
    assert set(secret["data"]) == {"PORTICO_REASONING_KEYS"}
    frontend = containers(server(render()))["frontend"]
    assert frontend["envFrom"] == [{"secretRef": {"name": secret["metadata"]["name"]}}]


def test_every_option_renders() -> None:
    docs = render("-f", str(ALL))
    kinds = by_kind(docs)
    assert sorted(kinds) == [
        "ConfigMap",  # the Grafana dashboard (test_dashboard.py)
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Secret",
        "Service",
        "ServiceMonitor",
    ]
    pod = server(docs)
    c = containers(pod)
    args = c["inference"]["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "2"
    assert args[args.index("--api-server-count") + 1] == "4"
    assert args.count("--served-model-name") == 2 and "--enable-prefix-caching" in args
    env = {e["name"]: e.get("value") for e in c["frontend"]["env"]}
    assert env["PORTICO_STORE_URL"] == "redis://portico-prod-redis:6379/0"  # the bundled one
    assert env["PORTICO_SSE_PING_INTERVAL"] == "10"
    assert c["frontend"]["args"][c["frontend"]["args"].index("--workers") + 1] == "4"
    assert c["inference"]["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert pod["terminationGracePeriodSeconds"] == 300
    (secret,) = kinds["Secret"]
    assert set(secret["data"]) == {"PORTICO_REASONING_KEYS", "PORTICO_API_KEYS"}
    (monitor,) = kinds["ServiceMonitor"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    token = {"type": "Bearer", "credentials": {"name": "portico-metrics-key", "key": "token"}}
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "authorization": token}
    ]
    assert env["PORTICO_LOG_FORMAT"] == "json"
    sidecar_env = {e["name"]: e.get("value") for e in c["inference"]["env"]}
    assert sidecar_env["PORTICO_LOG_FORMAT"] == "json"
    (hpa,) = kinds["HorizontalPodAutoscaler"]
    assert hpa["spec"]["metrics"][0]["pods"]["metric"]["name"] == "portico_requests_in_flight"
    redis = [d for d in kinds["Deployment"] if d["metadata"]["name"].endswith("-redis")]
    assert redis and "volatile-lru" in redis[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    # The Services pick their own pods: Portico's never select the Redis pod, nor the reverse.
    for service in kinds["Service"]:
        component = service["spec"]["selector"]["app.kubernetes.io/component"]
        is_redis = service["metadata"]["name"].endswith("-redis")
        assert component == ("store" if is_redis else "server")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "frontend.workers=2"], "several workers or pods need a shared response store"),
        (["--set", "replicaCount=3"], "several workers or pods need a shared response store"),
        (["--set", "model="], "/model"),
        (["--set", "frontend.settings.PORTICO_STORE_URL=redis://x"], "PORTICO_STORE_URL"),
        (["--set", "secrets.reasoningKeys=not-a-key"], "reasoningKeys"),
        (["--set", "store.url=http://redis"], "store/url"),
    ],
)
def test_mistakes_are_refused_at_render(args: list[str], message: str) -> None:
    done = subprocess.run(
        [tool("helm"), "template", "t", str(CHART), *args], capture_output=True, text=True
    )
    assert done.returncode != 0 and message in done.stderr, done.stderr


def test_every_value_is_documented_and_declared() -> None:
    """Each value in values.yaml has a comment just above it and a description in the schema,
    and the schema declares nothing values.yaml leaves out. A key with a comment is a value
    (its own lines below are its default); a key without one is a group of values."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    lines = (CHART / "values.yaml").read_text().splitlines()
    seen: set[str] = set()
    groups: dict[str, dict[str, Any]] = {"": schema}
    stack: list[tuple[int, str, dict[str, Any]]] = []  # (indent, path, schema node)
    skip_below: int | None = None
    for number, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z][\w.-]*):", line)
        if not match:
            continue
        indent = len(match[1])
        if skip_below is not None and indent > skip_below:
            continue  # inside a value's default
        skip_below = None
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][2] if stack else schema
        path = (stack[-1][1] + "." if stack else "") + match[2]
        assert match[2] in parent.get("properties", {}), f"{path} is not in values.schema.json"
        node = parent["properties"][match[2]]
        seen.add(path)
        previous = next(x for x in reversed(lines[:number]) if x.strip())
        if previous.strip().startswith("#"):
            assert "description" in node, f"values.schema.json: {path} has no description"
            skip_below = indent
        else:
            assert "properties" in node, f"values.yaml: {path} has no comment"
            stack.append((indent, path, node))
            groups[path] = node
    for path, node in groups.items():
        for name in node["properties"]:
            member = f"{path}.{name}" if path else name
            assert member in seen, f"values.schema.json declares {member}; values.yaml has not"
