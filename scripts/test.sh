#!/usr/bin/env bash
# Lint, type-check and test Portico with the project's virtual environment.
# Unit tests use the fake sidecar; tests/integration runs vLLM on the CPU with SmolLM2.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PORTICO_VENV:-$ROOT/.venv}
cd "$ROOT"
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== mypy"
"$VENV/bin/mypy"
echo "== pytest"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
