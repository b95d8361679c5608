#!/usr/bin/env bash
# Concurrency 1 on one machine: vLLM's server vs Portico through its launcher (bench.compare),
# then Portico's frontend started on its own (bench/device/pin.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
source .gpu/bin/env.sh
OUT=${OUT:-/tmp/c1}; mkdir -p "$OUT/c1"
python3 -m bench.compare --model /tmp/model --served-model-name llama-rand --out "$OUT/c1" \
  --concurrency 1 --requests 128 --max-output-tokens 128 --processes 1 \
  --max-model-len 4096 --gpu-memory-utilization 0.85 2>&1 | grep "^| 1 "
bash bench/device/pin.sh
