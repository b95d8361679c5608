#!/usr/bin/env bash
# The cost of the shared store on the GPU: one Portico (1 worker) on a Redis store, the same
# load with `store: false` and `store: true` interleaved (false, true, false, true), 256
# streams, 128 tokens. Issue 6's budget: store on Redis within 3 % of store off.
# Needs the staged vLLM (../shared/gpu recipe: stage.sh, run_all.sh install model) and a
# redis-server carried in .redis/ (the binary and the libraries the device image lacks), and
# the redis, aiocache and hiredis wheels installed into the staged site (pip --no-index).
#   bash bench/device/store.sh      # results (JSON per round, worker CPU, a summary) go to $OUT
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -f .gpu/bin/env.sh ] && source .gpu/bin/env.sh
# ENGINE: the sidecar's flags (on a CPU: ENGINE="--fake --fake-reply-tokens 128" NAME=fake-model);
# STORE=memory: the in-memory store instead of Redis; ROUNDS: rounds of (false, true) (2).
ENGINE=${ENGINE:---model /tmp/model --served-model-name llama-rand --max-model-len 4096 --gpu-memory-utilization 0.85}
NAME=${NAME:-llama-rand}
export PATH=$PWD/.redis:$PATH LD_LIBRARY_PATH=$PWD/.redis:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/portico-out}; mkdir -p "$OUT"
RUN=$(mktemp -d); SOCK=$RUN/redis.sock
redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no --maxmemory 4gb \
  --maxmemory-policy volatile-lru >"$RUN/redis.log" 2>&1 &
REDIS=$!
STORE_FLAGS="--responses-store-url unix://$SOCK"; [ "${STORE:-redis}" = memory ] && STORE_FLAGS=
python3 -m launcher --port "${PORT:-8000}" $STORE_FLAGS $ENGINE \
  >"$RUN/portico.log" 2>&1 &
PORTICO=$!
for _ in $(seq 300); do
  curl -sf http://127.0.0.1:${PORT:-8000}/health >/dev/null && break
  kill -0 $PORTICO 2>/dev/null || break; sleep 1
done
curl -sf http://127.0.0.1:${PORT:-8000}/health || { tail -30 "$RUN/portico.log"; exit 1; }
# The Sanic worker (a child of the `sanic frontend.app` process): its CPU seconds per request
# are the stable figure on a shared box, where throughput swings between adjacent runs.
SANIC=$(pgrep -P $PORTICO -f "sanic frontend.app"); WORKER=$(pgrep -P "$SANIC" -f spawn_main | tail -1)
cpu() { awk '{print $14 + $15}' "/proc/$WORKER/stat"; }
ROUNDS=${ROUNDS:-2}
for round in $(seq "$ROUNDS"); do
  for store in false true; do
    before=$(cpu)
    python3 -m bench.load --base-url "http://127.0.0.1:${PORT:-8000}/v1" --model "$NAME" \
      --concurrency "${CONC:-256}" --requests "${REQUESTS:-1024}" \
      --max-output-tokens 128 --processes "${PROCS:-8}" --label "store-$store-$round" \
      --extra-body "{\"store\": $store}" --json-out "$OUT/store-$store-$round.json" 2>&1 \
      | grep -E "^\| *[0-9]" | sed "s/^/store=$store round $round /"
    echo $(( $(cpu) - before )) >"$OUT/store-$store-$round.ticks"  # clock ticks (1/100 s)
  done
done
python3 - "$OUT" "$ROUNDS" "${STORE:-redis}" <<'PY' | tee "$OUT/summary.md"
import json, sys, pathlib
out, rounds, kind = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def tok(name):
    level = json.loads((out / name).read_text())["levels"][-1]
    assert level["errors"] == 0, (name, level["error_kinds"])
    return float(level["output_tokens_per_s"])
def cpu_ms(name):  # the worker's CPU per request (warm-up included), ms
    level = json.loads((out / f"{name}.json").read_text())["levels"][-1]
    ticks = int((out / f"{name}.ticks").read_text())
    return ticks * 10 / (level["requests"] + level["warmup_requests"])
offs, ons, cpu_off, cpu_on = [], [], [], []
for r in range(1, rounds + 1):
    off, on = tok(f"store-false-{r}.json"), tok(f"store-true-{r}.json")
    c_off, c_on = cpu_ms(f"store-false-{r}"), cpu_ms(f"store-true-{r}")
    offs.append(off); ons.append(on); cpu_off.append(c_off); cpu_on.append(c_on)
    print(f"round {r}: store off {off:,.1f} tok/s, store on ({kind}) {on:,.1f} tok/s, "
          f"ratio {on/off:.3f}; worker CPU {c_off:.3f} / {c_on:.3f} ms per request")
print(f"all rounds: throughput ratio {sum(ons) / sum(offs):.3f}; worker CPU per request "
      f"{sum(cpu_off) / rounds:.3f} ms off, {sum(cpu_on) / rounds:.3f} ms on "
      f"(x{sum(cpu_on) / sum(cpu_off):.3f})")
PY
kill $PORTICO; wait $PORTICO 2>/dev/null; kill $REDIS
