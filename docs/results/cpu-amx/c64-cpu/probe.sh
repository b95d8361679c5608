# $1 = vllm|portico ; c=64 load under bench.cpu
set -u
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)  # the checkout
cd "$ROOT"
mkdir -p /tmp/cpu
M=~/.cache/portico/models/smollm2-135m-instruct
export VLLM_CPU_KVCACHE_SPACE=2
if [ "$1" = vllm ]; then
  setsid .venv/bin/python -m vllm.entrypoints.openai.api_server --host 127.0.0.1 --port 8300 --model $M --served-model-name SmolLM2-135M-Instruct --max-model-len 2048 > /tmp/cpu/$1-server.log 2>&1 &
else
  setsid .venv/bin/python -m launcher --host 127.0.0.1 --port 8300 --workers 1 --model $M --served-model-name SmolLM2-135M-Instruct --max-model-len 2048 > /tmp/cpu/$1-server.log 2>&1 &
fi
PID=$!
until curl -sf 127.0.0.1:8300/health >/dev/null; do sleep 2; done
.venv/bin/python -m bench.cpu --root $PID --settle 6 --window 10 --json-out /tmp/cpu/$1-cpu.json -- .venv/bin/python -m bench.load --base-url http://127.0.0.1:8300/v1 --model SmolLM2-135M-Instruct --concurrency 64 --requests 256 --max-output-tokens 64 --json-out /tmp/cpu/$1-load.json
kill -INT -- -$PID; sleep 8; kill -9 -- -$PID 2>/dev/null
