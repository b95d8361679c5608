"""The frontend alone: SSE events per second with a sidecar that emits tokens instantly.

Owns the frontend-only figure of docs/benchmarks.md: for each worker count, start the
launcher with the fake engine (`--fake`, one token per delta, no delay), drive it with
bench.load from several client processes, and report the SSE events per second served.

    python -m bench.frontend --workers 1,2 --concurrency 64 --tokens 256 --processes 2 --out DIR
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench.compare import load_command, stop, wait_healthy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.frontend", description=__doc__)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=256, help="output tokens per request")
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--out", type=Path, required=True)
    ns = parser.parse_args(argv)
    ns.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for workers in [int(w) for w in ns.workers.split(",")]:
        log = (ns.out / f"frontend-w{workers}.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "launcher",
                "--fake",
                "--port",
                str(ns.port),
                "--workers",
                str(workers),
                "--fake-reply-tokens",
                str(ns.tokens),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{ns.port}/health", proc, 120)
            result = ns.out / f"frontend-w{workers}.json"
            load = load_command(
                ns.port,
                "fake-model",
                str(ns.concurrency),
                ns.tokens,
                f"frontend-w{workers}",
                result,
                requests=ns.requests,
                processes=ns.processes,
                ignore_eos=False,
            )
            subprocess.run(load, check=False, stdout=subprocess.DEVNULL)
            level = json.loads(result.read_text())["levels"][0]
            rows.append((workers, level))
        finally:
            stop(proc)
    lines = [
        "| workers | requests | errors | SSE events/s | output tok/s | TTFT p50 ms |"
        " client CPU max % |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, lv in rows:
        lines.append(
            f"| {workers} | {lv['requests']} | {lv['errors']} | {lv['sse_events_per_s']:,.0f} "
            f"| {lv['output_tokens_per_s']:,.0f} | {lv['ttft_ms']['p50']:.1f} "
            f"| {lv['client_cpu']['max_process_busy_pct']:.0f} |"
        )
    table = "\n".join(lines) + "\n"
    (ns.out / "frontend.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
