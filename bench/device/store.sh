#!/usr/bin/env bash
# The cost of the shared store on the GPU: one Portico (1 worker) on a Redis store, the same
# load with `store: false` and `store: true` interleaved (false, true, false, true), 256
# streams, 128 tokens. Issue 6's budget: store on Redis within 3 % of store off.
# Needs the staged vLLM (../shared/gpu recipe: stage.sh, run_all.sh install model) and a
# redis-server carried in .redis/ (the binary and the libraries the device image lacks).
#   bash bench/device/store.sh      # results (JSON per round, a summary) go to $OUT
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -f .gpu/bin/env.sh ] && source .gpu/bin/env.sh
# ENGINE: the sidecar's flags (e.g. ENGINE=--fake NAME=fake-model to try the script on a CPU)
ENGINE=${ENGINE:---model /tmp/model --served-model-name llama-rand --max-model-len 4096 --gpu-memory-utilization 0.85}
NAME=${NAME:-llama-rand}
export PATH=$PWD/.redis:$PATH LD_LIBRARY_PATH=$PWD/.redis:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/portico-out}; mkdir -p "$OUT"
RUN=$(mktemp -d); SOCK=$RUN/redis.sock
redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no --maxmemory 4gb \
  --maxmemory-policy volatile-lru >"$RUN/redis.log" 2>&1 &
REDIS=$!
python3 -m launcher --port 8000 --responses-store-url "unix://$SOCK" $ENGINE \
  >"$RUN/portico.log" 2>&1 &
PORTICO=$!
for _ in $(seq 300); do
  curl -sf http://127.0.0.1:8000/health >/dev/null && break
  kill -0 $PORTICO 2>/dev/null || break; sleep 1
done
curl -sf http://127.0.0.1:8000/health || { tail -30 "$RUN/portico.log"; exit 1; }
for round in 1 2; do
  for store in false true; do
    python3 -m bench.load --model "$NAME" --concurrency "${CONC:-256}" --requests "${REQUESTS:-1024}" \
      --max-output-tokens 128 --processes "${PROCS:-8}" --label "store-$store-$round" \
      --extra-body "{\"store\": $store}" --json-out "$OUT/store-$store-$round.json" 2>&1 \
      | grep -E "^\| *[0-9]" | sed "s/^/store=$store round $round /"
  done
done
python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def tok(name):
    level = json.loads((out / name).read_text())["levels"][-1]
    assert level["errors"] == 0, (name, level["error_kinds"])
    return float(level["output_tokens_per_s"])
for r in (1, 2):
    off, on = tok(f"store-false-{r}.json"), tok(f"store-true-{r}.json")
    print(f"round {r}: store off {off:,.1f} tok/s, store on (Redis) {on:,.1f} tok/s, ratio {on/off:.3f}")
PY
kill $PORTICO; wait $PORTICO 2>/dev/null; kill $REDIS
