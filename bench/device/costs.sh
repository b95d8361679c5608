#!/usr/bin/env bash
# The costs of Portico's optional layers on one engine, in one run (issues 6, 7 and 9):
# one sidecar and one redis-server; two frontends (1 worker each) on that sidecar, both on
# the Redis store: A plain, B with an API key and per-key request and token limits far above
# the load (every request counted and checked, none refused). The same load (CONC streams,
# 128 tokens) runs A store:false, B store:false, A store:true, twice, interleaved:
#   edge cost  = B/A with store false   (issue 7's budget: within 2 %)
#   store cost = A store:true / A store:false on Redis   (issue 6's budget: within 3 %)
# then one more A store:false load while py-spy samples the sidecar and the frontend worker
# (issue 9's profile: self and inclusive time by function, CPU cores per process).
#   bash bench/device/costs.sh        # JSON per load, costs.md, profiles: in $OUT
# ENGINE / NAME as in store.sh (ENGINE="--fake" NAME=fake-model tries it on a CPU).
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -f .gpu/bin/env.sh ] && source .gpu/bin/env.sh
ENGINE=${ENGINE:---model /tmp/model --served-model-name llama-rand --max-model-len 4096 --gpu-memory-utilization 0.85}
NAME=${NAME:-llama-rand}; CONC=${CONC:-256}; REQUESTS=${REQUESTS:-2048}; PROCS=${PROCS:-8}
export PATH=$PWD/.redis:$PATH LD_LIBRARY_PATH=$PWD/.redis:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/portico-out}; mkdir -p "$OUT"
RUN=$(mktemp -d); SOCK=$RUN/redis.sock; SIDECAR=$RUN/sidecar.sock
redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no --maxmemory 4gb \
  --maxmemory-policy volatile-lru >"$RUN/redis.log" 2>&1 &
REDIS=$!
T0=$(date +%s)
python3 -m inference --socket "$SIDECAR" $ENGINE >"$OUT/costs-sidecar.log" 2>&1 &
SIDE=$!
for _ in $(seq 600); do
  python3 -c "from launcher.sidecar import handshake; import sys; sys.exit(handshake('$SIDECAR') is None)" 2>/dev/null && break
  kill -0 $SIDE 2>/dev/null || { tail -30 "$OUT/costs-sidecar.log"; exit 1; }; sleep 1
done
echo "sidecar ready after $(( $(date +%s) - T0 )) s"
export PORTICO_SIDECAR_SOCKET=$SIDECAR PORTICO_STORE_URL=unix://$SOCK
python3 -m sanic frontend.app --port 8601 --no-motd --single-process >"$OUT/costs-a.log" 2>&1 &
A=$!
PORTICO_API_KEYS=sk-bench-edge PORTICO_RATE_LIMIT_RPM=100000000 PORTICO_RATE_LIMIT_TPM=100000000000 \
  python3 -m sanic frontend.app --port 8602 --no-motd --single-process >"$OUT/costs-b.log" 2>&1 &
B=$!
for port in 8601 8602; do
  for _ in $(seq 120); do curl -sf localhost:$port/health -H "Authorization: Bearer sk-bench-edge" >/dev/null && break; sleep 0.5; done
done
curl -s -o /dev/null -w "B without a key: %{http_code}\n" -X POST localhost:8602/v1/responses -d '{}'
load() {  # load NAME PORT STORE [KEY]
  local key=""; [ -n "${4:-}" ] && key="--api-key $4"
  python3 -m bench.load --base-url "http://127.0.0.1:$2/v1" --model "$NAME" $key \
    --concurrency "$CONC" --requests "$REQUESTS" --max-output-tokens 128 --processes "$PROCS" \
    --label "$1" --extra-body "{\"store\": $3}" --json-out "$OUT/$1.json" 2>&1 \
    | grep -E "^\| *[0-9]" | sed "s/^/$1 /"
}
for round in 1 2; do
  load "a-off-$round" 8601 false
  load "b-off-$round" 8602 false sk-bench-edge
  load "a-on-$round" 8601 true
done
# the profile: a longer load, sampled in its middle
if [ "${PROFILE:-1}" = 1 ] && ls .whl/py_spy-*.whl >/dev/null 2>&1; then
  pip install --no-index --no-deps --target /tmp/pyspy .whl/py_spy-*.whl >/dev/null 2>&1
  REQUESTS=$(( REQUESTS * 3 )) load profile 8601 false &
  LOAD=$!
  sleep "${SETTLE:-8}"
  CORE=$(pgrep -f EngineCore | head -1); CORE=${CORE:-$SIDE}
  cpu() { for p in $SIDE $CORE $A; do awk '{print $14+$15}' /proc/$p/stat; done | paste -sd' '; }
  C0=$(cpu); S0=$(date +%s.%N)
  /tmp/pyspy/bin/py-spy record -r 200 -d 15 -p $SIDE -f raw -o "$OUT/sidecar.folded" >"$RUN/spy1.log" 2>&1 &
  P1=$!
  /tmp/pyspy/bin/py-spy record -r 200 -d 15 -p $A -f raw -o "$OUT/frontend.folded" >"$RUN/spy2.log" 2>&1 &
  P2=$!
  wait $P1 $P2
  C1=$(cpu); S1=$(date +%s.%N)
  python3 - "$C0" "$C1" "$S0" "$S1" "$(getconf CLK_TCK)" <<'PY' | tee "$OUT/cpu.txt"
import sys
c0, c1 = (list(map(float, x.split())) for x in sys.argv[1:3])
dt, hz = float(sys.argv[4]) - float(sys.argv[3]), float(sys.argv[5])
for name, a, b in zip(("sidecar", "engine core", "frontend worker"), c0, c1):
    print(f"{name}: {(b - a) / hz / dt:.2f} cores")
PY
  wait $LOAD
  for who in sidecar frontend; do
    [ -s "$OUT/$who.folded" ] || { cat "$RUN/spy1.log" "$RUN/spy2.log"; continue; }
    python3 -m bench.folded "$OUT/$who.folded" > "$OUT/$who-top.txt"
    head -22 "$OUT/$who-top.txt"
  done
fi
python3 - "$OUT" <<'PY' | tee "$OUT/costs.md"
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def tok(name):
    level = json.loads((out / f"{name}.json").read_text())["levels"][-1]
    assert level["errors"] == 0, (name, level["error_kinds"])
    return float(level["output_tokens_per_s"])
for r in (1, 2):
    a, b, s = tok(f"a-off-{r}"), tok(f"b-off-{r}"), tok(f"a-on-{r}")
    print(f"round {r}: plain {a:,.0f} tok/s | keys + Redis limits {b:,.0f} ({b/a:.3f}) "
          f"| store on Redis {s:,.0f} ({s/a:.3f})")
PY
kill $A $B $SIDE; wait $A $B $SIDE 2>/dev/null; kill $REDIS
