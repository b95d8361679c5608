#!/usr/bin/env bash
# c=1 through Portico's HTTP frontend: unpinned, then with the Sanic worker pinned to cores
# away from vLLM's engine-core process (is the c=1 gap scheduling?). One sidecar for both.
set -uo pipefail
cd "$(dirname "$0")/../.."
source .gpu/bin/env.sh
OUT=${OUT:-/tmp/pin}; mkdir -p "$OUT"
python3 -m inference --socket /tmp/pin.sock --model /tmp/model --served-model-name llama-rand \
  --max-model-len 4096 --gpu-memory-utilization 0.85 > "$OUT/sidecar.log" 2>&1 &
for i in $(seq 1 300); do
  python3 -c "from launcher.sidecar import handshake; import sys; sys.exit(handshake('/tmp/pin.sock') is None)" && break
  sleep 1
done
echo "sidecar up after ${i}s; engine core on: $(pgrep -f EngineCore | head -1 | xargs -r taskset -cp 2>/dev/null)"
for mode in plain pinned plain2; do
  pre=""; [ $mode = pinned ] && pre="taskset -c 12-15"
  PORTICO_SIDECAR_SOCKET=/tmp/pin.sock $pre python3 -m sanic frontend.app --port 8600 --no-motd > "$OUT/fe-$mode.log" 2>&1 &
  FE=$!
  for i in $(seq 1 60); do curl -sf localhost:8600/health >/dev/null && break; sleep 0.5; done
  python3 -m bench.load --base-url http://127.0.0.1:8600/v1 --model llama-rand --concurrency 1 \
    --requests 128 --max-output-tokens 128 --json-out "$OUT/$mode.json" 2>/dev/null | tail -1 | sed "s/^/$mode /"
  kill $FE; wait $FE 2>/dev/null
done
python3 -m bench.pace socket --socket /tmp/pin.sock --requests 32 --tokens 128
kill %1; wait
