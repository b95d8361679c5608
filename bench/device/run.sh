#!/usr/bin/env bash
# Portico on the lent GPU machine, after ../shared/gpu's recipe staged vLLM there
# (.gpu/bin/stage.sh for each part, then .gpu/bin/run_all.sh install model).
#   bash bench/device/run.sh smoke     # the integration suite on CUDA vLLM (random 1B Llama)
#   bash bench/device/run.sh bench     # Portico vs `vllm serve`, same GPU, same run
#   bash bench/device/run.sh frontend  # SSE events/s of the frontend alone, by worker count
# Results go to $OUT (the device tool brings them back).
set -uo pipefail
cd "$(dirname "$0")/../.."
source .gpu/bin/env.sh
export PORTICO_SPEC_DIR=$PWD/.gpu/spec PYTHONDONTWRITEBYTECODE=1
OUT=${OUT:-/tmp/portico-out}; mkdir -p "$OUT"
MODEL=/tmp/model NAME=llama-rand
ENGINE="--max-model-len 4096 --gpu-memory-utilization 0.85"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)" 2>/dev/null
for step in "$@"; do
  echo "=== $step ($(date +%T))"
  case $step in
    smoke)
      PORTICO_TEST_MODEL=$MODEL PORTICO_TEST_MODEL_NAME=$NAME PORTICO_TEST_ENGINE_ARGS="$ENGINE" \
        timeout 420 python3 -m pytest -q -p no:cacheprovider tests/integration 2>&1 \
        | tee "$OUT/smoke.log" | tail -25 ;;
    bench)
      timeout 560 python3 -m bench.compare --model $MODEL --served-model-name $NAME \
        --out "$OUT/bench" --concurrency "${CONC:-1,16,64,256}" --max-output-tokens 128 \
        --processes "${PROCS:-8}" --order "${ORDER:-engine,vllm,portico}" --workers "${WORKERS:-1}" $ENGINE 2>&1 | grep -v "^\[" | tail -30 ;;
    frontend)
      timeout 300 python3 -m bench.frontend --workers "${WORKERS:-1,2,4,8}" --concurrency 256 \
        --tokens 256 --processes 8 --requests 2048 --out "$OUT/frontend" 2>&1 | tail -12 ;;
  esac
done
