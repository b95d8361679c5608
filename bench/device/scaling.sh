#!/usr/bin/env bash
# Issue 9's open questions in one command on one GPU, with the drift between loads controlled:
# the engine-only ceiling and Portico run side by side (each its own engine at GPU_UTIL of the
# memory) and take turns: ceiling round 1, Portico round 1, ceiling round 2, ... A Portico round
# loads frontends of W Sanic workers (all started on one sidecar of SHARDS shards) in turn, the
# order reversed every other round, at each of LEVELS; every load runs under bench.cpu (CPU per
# process). PROFILE=1 then samples one shard, the engine core (by thread) and a worker of
# each PROFILE_W frontend ("1 4": each in turn; one listed twice is profiled twice, the second
# time as profile-wW-2) with py-spy (.whl/py_spy-*.whl) during a longer load, with the engine's
# gauges every second and the GPU's use (nvidia-smi) beside it. MODES="unpinned pinned" runs
# every Portico round twice, the second time with the engine core alone on ENGINE_CPUS, the
# sidecar and the frontends on SERVER_CPUS and the load on the rest (taskset on the live
# processes; the order of the modes alternates by round); the mode "varied" runs it with output
# lengths spread over TOKENS ± SPREAD (bench.load --output-spread; the ceiling then runs each
# level with both, bench.engine --output-spread 0,SPREAD), so that the closed loop's streams do
# not finish and restart in lockstep. Every load also scrapes /metrics every GAUGE_EVERY s
# through bench.cpu's window (gauges-*.txt): the engine's running and waiting requests, its
# steps and the output tokens (bench.rounds: running batch and its low, steps per second,
# tokens per step). A load must outlast SETTLE + WINDOW (bench.cpu marks one that did not:
# its figures then include the drain): at ~40k tok/s and 128 tokens, 2,560 requests last
# 8 s and 6,144 (the default) about 20 s.
#   bash bench/device/scaling.sh     # $OUT/scaling.md (bench.rounds) and $OUT/scaling.tar.gz
# SIDECAR_FLAGS go to the sidecar only (e.g. "--prefill-window-ms 50
# --enable-logging-iteration-details": the step kinds in the engine table; or
# "--prefill-schedule-interval 4 ...": the prefill cadence, inference/engine/cadence.py).
# CEILING=0 leaves the ceiling out (Portico's ROUNDS - 1 rounds only: ENGINE="--fake" NAME=fake-model tries
# the script on a CPU).
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -f .gpu/bin/env.sh ] && source .gpu/bin/env.sh
GPU_UTIL=${GPU_UTIL:-0.40}
ENGINE=${ENGINE:---model /tmp/model --served-model-name llama-rand --max-model-len 4096 --gpu-memory-utilization $GPU_UTIL}
NAME=${NAME:-llama-rand}; LEVELS=${LEVELS:-256,512}; REQUESTS=${REQUESTS:-6144}
PROCS=${PROCS:-8}; TOKENS=${TOKENS:-128}; SHARDS=${SHARDS:-2}; WORKERS=${WORKERS:-"1 2 4"}
ROUNDS=${ROUNDS:-3}; CEILING=${CEILING:-1}; SETTLE=${SETTLE:-6}; WINDOW=${WINDOW:-6}
MODES=${MODES:-unpinned}; LAST_CPU=$(( $(nproc) - 1 ))
ENGINE_CPUS=${ENGINE_CPUS:-0,1}; SERVER_CPUS=${SERVER_CPUS:-2-7}; CLIENT_CPUS=${CLIENT_CPUS:-8-$LAST_CPU}
SIDECAR_FLAGS=${SIDECAR_FLAGS:-}; PROFILE=${PROFILE:-0}; PROFILE_W=${PROFILE_W:-2}; SPREAD=${SPREAD:-64}; GAUGE_EVERY=${GAUGE_EVERY:-0.25}
SPREADS=0; [[ " $MODES " == *" varied "* ]] && SPREADS=0,$SPREAD
export PATH=$PWD/.redis:$PATH LD_LIBRARY_PATH=$PWD/.redis:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/portico-out}; mkdir -p "$OUT"
# everything printed also goes to $OUT/progress.log, which the device returns even when a
# command runs out of time (only finished runs write scaling.md and the tarball)
[ "${1:-}" = round ] || exec > >(tee -a "$OUT/progress.log") 2>&1
stamp() { echo "[$(date +%T)] $*"; }

tree() { echo "$1"; for c in $(pgrep -P "$1"); do tree "$c"; done; }
pin() {  # pin pinned|unpinned: set the CPUs of the live sidecar and frontends
  local all=0-$LAST_CPU engine server
  engine=$(pgrep -P "$SIDE" -f EngineCore | head -1)
  [ "$1" = pinned ] && server=$SERVER_CPUS || server=$all
  for p in $(tree "$SIDE") $(for f in "$RUN"/fe-w*.pid; do tree "$(cat "$f")"; done); do
    taskset -a -cp "$server" "$p" >/dev/null 2>&1
  done
  if [ -n "$engine" ] && [ "$1" = pinned ]; then
    taskset -a -cp "$ENGINE_CPUS" "$engine" >/dev/null 2>&1
    echo "pinned: engine core on $(taskset -cp "$engine" | sed 's/.*: //'), shard on" \
      "$(taskset -cp "$(pgrep -f -- --shard-slot | head -1)" | sed 's/.*: //')"
  fi
}
scrape() {  # the engine's batch, steps and the output tokens, with the time
  echo "at $(date +%s.%N)"
  curl -s "http://127.0.0.1:$1/metrics" | grep -E \
    "^portico_(engine_requests_(running|waiting)|engine_steps(_by_kind)?_total|output_tokens_total)"
}
portico_round() {  # ROUND, RUN, SIDE from the environment
  local order=$WORKERS modes=$MODES prefix
  if [ $(( ROUND % 2 )) = 0 ]; then
    order=$(tr ' ' '\n' <<<"$WORKERS" | tac | paste -sd' ')
    modes=$(tr ' ' '\n' <<<"$MODES" | tac | paste -sd' ')
  fi
  for M in $modes; do
    pin "$M"; prefix=""; [ "$M" = pinned ] && prefix="taskset -c $CLIENT_CPUS"
    spread=0; [ "$M" = varied ] && spread=$SPREAD
    for W in $order; do
      for C in ${LEVELS//,/ }; do
        L=w$W-c$C-r$ROUND; [ "$M" = pinned ] && L=p$W-c$C-r$ROUND; [ "$M" = varied ] && L=v$W-c$C-r$ROUND
        PORT=$(( 8600 + W ))
        (sleep "$SETTLE"; end=$(( $(date +%s%N) / 1000000 + WINDOW * 1000 ))
         while (( $(date +%s%N) / 1000000 < end )); do scrape "$PORT"; sleep "$GAUGE_EVERY"; done
         scrape "$PORT") >"$RUN/gauges-$L.txt" 2>&1 &
        G=$!
        python3 -m bench.cpu --root "$SIDE" --root "$(cat "$RUN/fe-w$W.pid")" --settle "$SETTLE" \
          --window "$WINDOW" --json-out "$RUN/cpu-$L.json" -- \
          $prefix python3 -m bench.load --base-url "http://127.0.0.1:$PORT/v1" --model "$NAME" \
          --concurrency "$C" --requests "$REQUESTS" --max-output-tokens "$TOKENS" \
          --output-spread "$spread" --processes "$PROCS" --label "$L" \
          --extra-body '{"store": false}' --json-out "$RUN/$L.json" 2>&1 |
          grep -E "^\| *[0-9]" | sed "s/^/$L /"
        wait "$G"
      done
    done
  done
  pin unpinned
}
if [ "${1:-}" = round ]; then portico_round; exit 0; fi

RUN=$(mktemp -d); export RUN
cleanup() {
  for f in "$RUN"/fe-w*.pid; do [ -e "$f" ] && kill -INT "$(cat "$f")" 2>/dev/null; done
  [ -n "${SIDE:-}" ] && kill -TERM "$SIDE" 2>/dev/null
  [ -n "${REDIS:-}" ] && kill "$REDIS" 2>/dev/null
  # these processes only: a bare `wait` would also wait for the tee of progress.log
  local pids=(${SIDE:-} ${REDIS:-})
  for f in "$RUN"/fe-w*.pid; do [ -e "$f" ] && pids+=("$(cat "$f")"); done
  wait "${pids[@]}" 2>/dev/null
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$RUN/redis.sock" --save '' --appendonly no \
  >"$RUN/redis.log" 2>&1 &
REDIS=$!; T0=$(date +%s)
python3 -m inference --socket "$RUN/sidecar.sock" --api-server-count "$SHARDS" $ENGINE $SIDECAR_FLAGS \
  >"$RUN/sidecar.log" 2>&1 &
SIDE=$!; export SIDE
for _ in $(seq 600); do  # the handshake answers once every shard does
  python3 -c "from launcher.sidecar import handshake; import sys; sys.exit(handshake('$RUN/sidecar.sock') is None)" \
    2>/dev/null && break
  kill -0 "$SIDE" 2>/dev/null || { tail -30 "$RUN/sidecar.log"; exit 1; }; sleep 1
done
stamp "sidecar with $SHARDS shards ready after $(( $(date +%s) - T0 )) s"
grep -E "CUDA graphs: steps|Graph capturing finished|cudagraph_capture_sizes|Memory profiling takes|init engine" \
  "$RUN/sidecar.log" | cut -c1-400 | tee "$RUN/sidecar-startup.log"
for W in $WORKERS; do
  # its own session: Sanic's manager SIGKILLs its workers' process group when one fails
  PORTICO_SIDECAR_SOCKET=$RUN/sidecar.sock PORTICO_STORE_URL=unix://$RUN/redis.sock \
    setsid python3 -m sanic frontend.app --port $(( 8600 + W )) --workers "$W" --no-motd \
    >"$RUN/frontend-w$W.log" 2>&1 &
  echo $! >"$RUN/fe-w$W.pid"
done
for W in $WORKERS; do
  for _ in $(seq 240); do curl -sf "http://127.0.0.1:$(( 8600 + W ))/health" >/dev/null && break; sleep 0.5; done
done
for W in $WORKERS; do kill -0 "$(cat "$RUN/fe-w$W.pid")" 2>/dev/null || { tail -20 "$RUN/frontend-w$W.log"; exit 1; }; done
stamp "frontends of $WORKERS workers up; $(nproc) CPUs: $(lscpu | grep -E '^(Model name|Thread|Core|Socket)' | tr -s ' ' | paste -sd';')"
if [ "$CEILING" = 1 ]; then
  python3 -m bench.engine $ENGINE --concurrency "$LEVELS" --requests "$REQUESTS" \
    --max-output-tokens "$TOKENS" --output-spread "$SPREADS" --rounds "$ROUNDS" \
    --between "bash $0 round" --json-out "$RUN/engine.json" 2>&1 |
    grep -E "^\[engine\]|^[wpv][0-9]|^pinned|Error|Traceback"
else
  for ROUND in $(seq $(( ROUNDS - 1 ))); do export ROUND; portico_round; done
fi
if [ "$PROFILE" = 1 ] && ls .whl/py_spy-*.whl >/dev/null 2>&1; then
  pip install -q --no-index --no-deps --target /tmp/pyspy .whl/py_spy-*.whl >/dev/null 2>&1
  C=${LEVELS##*,}
  for PW in $PROFILE_W; do  # each frontend in turn: its load, the engine's gauges, the GPU's use
    FE=$(cat "$RUN/fe-w$PW.pid"); P=profile-w$PW; pass=2
    while [ -e "$RUN/$P.json" ]; do P=profile-w$PW-$pass; pass=$(( pass + 1 )); done
    python3 -m bench.load --base-url "http://127.0.0.1:$(( 8600 + PW ))/v1" --model "$NAME" \
      --concurrency "$C" --requests $(( REQUESTS * 2 )) --max-output-tokens "$TOKENS" \
      --processes "$PROCS" --label "$P" --extra-body '{"store": false}' \
      --json-out "$RUN/$P.json" 2>&1 | grep -E "^\| *[0-9]" | sed "s/^/$P /" &
    LOAD=$!
    sleep "$SETTLE"
    SHARD=$(pgrep -f -- "--shard-slot" | head -1); SHARD=${SHARD:-$SIDE}
    CORE=$(pgrep -f EngineCore | head -1)
    WORKER=$(ps --ppid "$FE" -o pid= --sort=-pcpu | head -1 | tr -d ' ')  # the busiest child
    SPIES=()
    for who in shard:$SHARD core:$CORE worker:$WORKER; do
      [ -n "${who#*:}" ] || continue
      /tmp/pyspy/bin/py-spy record -r 100 -d 12 --threads -p "${who#*:}" -f raw \
        -o "$RUN/$P-${who%%:*}.folded" >"$RUN/spy-$P-${who%%:*}.log" 2>&1 &
      SPIES+=($!)
    done
    (end=$(( $(date +%s) + 12 )); while (( $(date +%s) < end )); do scrape $(( 8600 + PW )); sleep 1; done
     scrape $(( 8600 + PW ))) >"$RUN/gauges-$P.txt" 2>&1 &
    SPIES+=($!)
    if command -v nvidia-smi >/dev/null; then
      timeout 12 nvidia-smi --query-gpu=utilization.gpu,power.draw,clocks.sm --format=csv,noheader \
        -lms 250 >"$RUN/gpu-$P.csv" 2>&1 &
      SPIES+=($!)
    fi
    wait $LOAD "${SPIES[@]}"
    for who in shard core worker; do
      if [ -s "$RUN/$P-$who.folded" ]; then
        python3 -m bench.folded "$RUN/$P-$who.folded" --top 25 >"$RUN/$P-$who-top.txt"
        head -12 "$RUN/$P-$who-top.txt"
      else
        tail -3 "$RUN/spy-$P-$who.log"
      fi
    done
  done
fi
python3 -m bench.rounds "$RUN" | tee "$OUT/scaling.md"
tail -5 "$RUN/sidecar.log" >"$RUN/sidecar-tail.log"
tar czf "$OUT/scaling.tar.gz" -C "$RUN" --exclude='*.sock' --exclude='*.sock.*' --exclude='sidecar.log' .
