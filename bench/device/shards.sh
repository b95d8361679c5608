#!/usr/bin/env bash
# Issue 9 in one run: the engine-only ceiling, then Portico with S sidecar shards
# (--api-server-count S) and W Sanic workers, then `vllm serve`, all on one GPU, same load.
#   bash bench/device/shards.sh            # JSON per load and shards.md in $OUT
# PLAN lists "S:W,W" groups: one sidecar per S, one frontend per W on it (default
# "1:1 2:1,2 4:2,4"). STEPS picks what runs, in order (default "engine portico vllm"; a
# repeated engine step is labelled engine-2, ...). LEVELS are the stream counts, REQUESTS
# per level (empty: bench.load's default, max(32, 4 x streams)). ENGINE / NAME as in costs.sh; ENGINE="--fake"
# NAME=fake-model (STEPS=portico) tries it on a CPU. Logs stay on the machine; failures print.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -f .gpu/bin/env.sh ] && source .gpu/bin/env.sh
ENGINE=${ENGINE:---model /tmp/model --served-model-name llama-rand --max-model-len 4096 --gpu-memory-utilization 0.85}
NAME=${NAME:-llama-rand}; LEVELS=${LEVELS:-256,512}; REQUESTS=${REQUESTS-2048}; PROCS=${PROCS:-8}
COUNT=(); [ -n "$REQUESTS" ] && COUNT=(--requests "$REQUESTS")
PLAN=${PLAN:-"1:1 2:1,2 4:2,4"}; STEPS=${STEPS:-"engine portico vllm"}; TOKENS=${TOKENS:-128}
export PATH=$PWD/.redis:$PATH LD_LIBRARY_PATH=$PWD/.redis:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/portico-out}; mkdir -p "$OUT"
RUN=$(mktemp -d); REDIS_SOCK=$RUN/redis.sock; SIDECAR=$RUN/sidecar.sock
stamp() { echo "[$(date +%T)] $*"; }
load() {  # load LABEL PORT
  python3 -m bench.load --base-url "http://127.0.0.1:$2/v1" --model "$NAME" \
    --concurrency "$LEVELS" "${COUNT[@]}" --max-output-tokens "$TOKENS" \
    --processes "$PROCS" --label "$1" --extra-body '{"store": false}' \
    --json-out "$OUT/$1.json" 2>&1 | grep -E "^\| *[0-9]" | sed "s/^/$1 /"
}
healthy() {  # healthy URL PID SECONDS
  for _ in $(seq $(( $3 * 2 ))); do
    curl -sf "$1" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1; sleep 0.5
  done; return 1
}
for step in $STEPS; do case $step in
engine)
  E=engine; [ -e "$OUT/engine.json" ] && E=engine-$(( $(ls "$OUT"/engine*.json | wc -l) + 1 ))
  stamp "engine-only ceiling ($E)"
  python3 -m bench.engine $ENGINE --concurrency "$LEVELS" "${COUNT[@]}" \
    --max-output-tokens "$TOKENS" --label $E --json-out "$OUT/$E.json" >"$RUN/$E.log" 2>&1
  grep -E "^\| *[0-9]" "$RUN/$E.log" | sed "s/^/$E /" ;;
portico)
  redis-server --port 0 --unixsocket "$REDIS_SOCK" --save '' --appendonly no \
    >"$RUN/redis.log" 2>&1 &
  REDIS=$!
  for group in $PLAN; do
    S=${group%%:*}; WS=${group#*:}
    T0=$(date +%s)
    python3 -m inference --socket "$SIDECAR" --api-server-count "$S" $ENGINE \
      >"$RUN/sidecar-s$S.log" 2>&1 &
    SIDE=$!
    for _ in $(seq 600); do
      python3 -c "from launcher.sidecar import handshake; import sys; sys.exit(handshake('$SIDECAR') is None)" 2>/dev/null && break
      kill -0 $SIDE 2>/dev/null || { tail -30 "$RUN/sidecar-s$S.log"; break; }; sleep 1
    done
    stamp "sidecar with $S shards ready after $(( $(date +%s) - T0 )) s"
    for W in ${WS//,/ }; do
      PORTICO_SIDECAR_SOCKET=$SIDECAR PORTICO_STORE_URL=unix://$REDIS_SOCK \
        python3 -m sanic frontend.app --port 8601 --workers "$W" --no-motd \
        >"$RUN/frontend-s$S-w$W.log" 2>&1 &
      FRONT=$!
      if healthy http://127.0.0.1:8601/health $FRONT 120; then
        load "s$S-w$W" 8601
      else
        stamp "frontend s$S w$W not healthy"; tail -20 "$RUN/frontend-s$S-w$W.log"
      fi
      kill -INT $FRONT; wait $FRONT 2>/dev/null
    done
    kill -TERM $SIDE; wait $SIDE 2>/dev/null
  done
  kill $REDIS ;;
vllm)
  T0=$(date +%s)
  python3 -m vllm.entrypoints.openai.api_server --host 127.0.0.1 --port 8000 $ENGINE \
    >"$RUN/vllm-server.log" 2>&1 &
  VLLM=$!
  if healthy http://127.0.0.1:8000/health $VLLM 600; then
    stamp "vllm serve ready after $(( $(date +%s) - T0 )) s"
    load vllm 8000
  else
    tail -20 "$RUN/vllm-server.log"
  fi
  kill -INT $VLLM; wait $VLLM 2>/dev/null ;;
esac; done
python3 - "$OUT" <<'PY' | tee "$OUT/shards.md"
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
runs = {p.stem: json.loads(p.read_text())["levels"] for p in sorted(out.glob("*.json"))}
ceiling = {lv["concurrency"]: lv for lv in runs.get("engine", [])}
print("| run | streams | tok/s | × engine | TTFT p99 ms | × engine p99 | errors |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, levels in runs.items():
    for lv in levels:
        c, tok, p99 = lv["concurrency"], lv["output_tokens_per_s"], lv["ttft_ms"]["p99"] or 0
        top = ceiling.get(c)
        ratio = f"{tok / top['output_tokens_per_s']:.2f}" if top else "-"
        slow = f"{p99 / top['ttft_ms']['p99']:.1f}" if top and top["ttft_ms"]["p99"] else "-"
        print(f"| {name} | {c} | {tok:,.0f} | {ratio} | {p99:,.0f} | {slow} | {lv.get('errors', 0)} |")
PY
