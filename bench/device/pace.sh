#!/usr/bin/env bash
# Where does a single stream's per-token time go on the GPU? (see bench/pace.py)
set -uo pipefail
cd "$(dirname "$0")/../.."
source .gpu/bin/env.sh
ENGINE="--max-model-len 4096 --gpu-memory-utilization 0.85"
python3 -m inference --socket /tmp/pace.sock --model /tmp/model $ENGINE > /tmp/pace-sidecar.log 2>&1 &
for i in $(seq 1 300); do
  python3 -c "from launcher.sidecar import handshake; import sys; sys.exit(handshake('/tmp/pace.sock') is None)" && break
  sleep 1
done
echo "sidecar up after ${i}s"
python3 -m bench.pace socket --socket /tmp/pace.sock --requests 64 --tokens 128
kill %1; wait
python3 -m bench.pace direct --requests 64 --tokens 128 --model /tmp/model $ENGINE 2>&1 | grep "ITL"
