# $1 = tree dir, $2 = label: Portico from that tree, c=64 load
set -u
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)  # the checkout with .venv and bench
mkdir -p /tmp/cpu
cd "$1"
M=~/.cache/portico/models/smollm2-135m-instruct
export VLLM_CPU_KVCACHE_SPACE=2
setsid "$ROOT/.venv/bin/python" -m launcher --host 127.0.0.1 --port 8300 --workers 1 --model $M --served-model-name SmolLM2-135M-Instruct --max-model-len 2048 > /tmp/cpu/$2-server.log 2>&1 &
PID=$!
until curl -sf 127.0.0.1:8300/health >/dev/null; do sleep 2; done
cd "$ROOT" && .venv/bin/python -m bench.load --base-url http://127.0.0.1:8300/v1 --model SmolLM2-135M-Instruct --concurrency 64 --requests 256 --max-output-tokens 64 --json-out /tmp/cpu/$2-load.json 2>&1 | grep "^| 64"
kill -INT -- -$PID; sleep 8; kill -9 -- -$PID 2>/dev/null
