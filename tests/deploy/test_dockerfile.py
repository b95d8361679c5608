"""The Dockerfile: hadolint passes; the frontend image holds no vLLM and no engine code; both
images run as the non-root user the chart expects; nothing secret is baked in."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.deploy.tools import ROOT, run, tool

DOCKERFILE = ROOT / "Dockerfile"
UID = "10001"


def stages() -> dict[str, list[str]]:
    """Each build target's instructions (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    result: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if match := re.match(r"FROM \S+ AS (\S+)", line):
            current = result.setdefault(match[1], [])
        current.append(line)
    return result


def test_hadolint_passes() -> None:
    run(tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE))


def test_two_targets_non_root_with_the_charts_uid() -> None:
    targets = stages()
    assert set(targets) == {"frontend", "inference"}
    for name, lines in targets.items():
        users = [line for line in lines if line.startswith("USER ")]
        assert users == [f"USER {UID}:{UID}"], name
    assert targets["inference"][0] == "FROM ${VLLM_IMAGE} AS inference"
    assert re.search(r"ARG VLLM_IMAGE=vllm/vllm-openai:v\d+\.\d+\.\d+\n", DOCKERFILE.read_text())


def test_no_secret_is_baked_in() -> None:
    for lines in stages().values():
        for line in lines:
            if line.startswith(("ENV ", "ARG ")):
                assert not re.search(r"KEY|TOKEN|SECRET|PASSWORD|STORE_URL", line), line
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("**") - 1].startswith("#") and "**/.env" in ignored


def test_frontend_image_code_serves_without_the_engine(tmp_path: Path) -> None:
    """The frontend stage copies only these paths: with just them, the app builds and no
    module of vLLM or of the sidecar's engine is imported."""
    copies = [line.split()[1:] for line in stages()["frontend"] if line.startswith("COPY ")]
    copied = [parts[0] for parts in copies if parts[0] not in ("pyproject.toml",)]
    assert copies[0] == ["pyproject.toml", "README.md", "./"]  # to install the dependencies
    assert copied == ["frontend/", "middleware/", "inference/__init__.py", "inference/protocol/"]
    for path in copied:
        source, target = ROOT / path, tmp_path / path
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    check = (
        "import sys, frontend, frontend.application as a; frontend.app; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('vllm', 'torch', 'launcher') "
        "or (m.startswith('inference.') and not m.startswith('inference.protocol'))); "
        "assert not bad, bad; "
        "assert a.__file__.startswith(sys.argv[1]), a.__file__"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", check, str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
