"""The engine-only ceiling: vLLM's `AsyncLLM` in this process, no HTTP, no socket.

Owns the "engine" column of docs/benchmarks.md: the same closed loop as `bench.load` (c
workers, each starting its next generation when its previous one ends), the same prompt
(rendered with the model's chat template, as Portico renders `input`), the same output length
(`ignore_eos`, temperature 0), measured straight on the engine's output stream. TTFT is from
`generate()` to the first output carrying tokens; ITL the gaps between later outputs. The JSON
it writes has bench.load's shape, so `python -m bench.load compare` reads it, and
`bench.compare --order engine,vllm,portico` runs it in the same run as the two servers.

    python -m bench.engine --model PATH --concurrency 1,256 --max-output-tokens 128 \\
        --json-out engine.json [vLLM engine flags]

`--rounds R --between CMD` runs the levels R times and CMD between rounds while the engine
idles, so a server on the same GPU (its own engine, both at a partial
`--gpu-memory-utilization`) is measured interleaved with the ceiling rather than before or
after it (bench/device/scaling.sh).

vLLM is imported only through inference/engine (its one importer).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
from typing import Any

from bench.level_stats import summarize_ms
from bench.load import DEFAULT_PROMPT, output_lengths


def _arguments(argv: list[str]) -> argparse.Namespace:
    from inference.engine.args import build_parser

    parser = build_parser(argparse.ArgumentParser(add_help=False))
    parser.prog = "python -m bench.engine"
    parser.add_argument("--concurrency", default="1,256")
    parser.add_argument("--requests", type=int, default=0, help="per level: max(32, 4c)")
    parser.add_argument("--max-output-tokens", type=int, default=128)
    parser.add_argument(
        "--output-spread",
        default="0",
        help="comma-separated spreads, each level run once per spread: output lengths cycle "
        "over --max-output-tokens ± spread (bench.load --output-spread)",
    )
    parser.add_argument("--prompt", default=DEFAULT_PROMPT)
    parser.add_argument("--label", default="engine")
    parser.add_argument("--json-out", default="")
    parser.add_argument("--rounds", type=int, default=1, help="run the levels this many times")
    parser.add_argument(
        "--between",
        default="",
        help="shell command run between rounds while the engine idles (env ROUND=1, 2, ...), "
        "so another server's loads interleave with the ceiling's on the same GPU",
    )
    return parser.parse_args(argv)


def _prompt_ids(model: str, prompt: str) -> list[int]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    messages = [{"role": "user", "content": prompt}]
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return [int(i) for i in tokenizer.encode(text, add_special_tokens=False)]
    return [int(i) for i in tokenizer.encode(prompt)]


async def _one(engine: Any, ids: list[int], params: Any, rid: str) -> dict[str, Any]:
    from inference.engine.vllm_api import tokens_input

    start = time.monotonic()
    first: float | None = None
    last = start
    gaps: list[float] = []
    tokens = 0
    async for out in engine.generate(tokens_input(ids), params, rid):
        got = len(out.outputs[0].token_ids) if out.outputs else 0
        if not got:
            continue
        now = time.monotonic()
        if first is None:
            first = now
        else:
            gaps.append(now - last)
        last = now
        tokens += got
    end = time.monotonic()
    return {"ttft": (first or end) - start, "gaps": gaps, "tokens": tokens, "e2e": end - start}


async def _level(
    engine: Any, ids: list[int], ns: argparse.Namespace, c: int, spread: int
) -> dict[str, Any]:
    from inference.engine.vllm_api import RequestOutputKind, SamplingParams

    params = [
        SamplingParams(
            max_tokens=length,
            temperature=0.0,
            ignore_eos=True,
            output_kind=RequestOutputKind.DELTA,
        )
        for length in output_lengths(ns.max_output_tokens, spread)
    ]
    n = ns.requests or max(32, 4 * c)
    serial = itertools.count()
    await asyncio.gather(
        *(_one(engine, ids, params[i % len(params)], f"warm-{c}-{i}") for i in range(c))
    )
    done: list[dict[str, Any]] = []

    async def worker() -> None:
        while (i := next(serial)) < n:
            done.append(await _one(engine, ids, params[i % len(params)], f"bench-{c}-{i}"))

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(c)))
    wall = time.monotonic() - start
    tokens = sum(r["tokens"] for r in done)
    cpu = {"total_cpu_s": 0.0, "cores_used": 0.0, "max_process_busy_pct": 0.0}
    return {
        "concurrency": c,
        "output_spread": spread,
        "processes": 0,
        "requests": len(done),
        "ok": len(done),
        "errors": 0,
        "error_kinds": {},
        "fatal": [],
        "wall_s": wall,
        "requests_per_s": len(done) / wall,
        "output_tokens": tokens,
        "output_tokens_per_s": tokens / wall,
        "ttft_ms": summarize_ms([r["ttft"] for r in done]),
        "itl_ms": summarize_ms([g for r in done for g in r["gaps"]]),
        "e2e_ms": summarize_ms([r["e2e"] for r in done]),
        "client_cpu": cpu,  # no client: the table's client columns read 0
    }


async def _between(command: str, round_: int) -> None:
    child = await asyncio.create_subprocess_shell(command, env={**os.environ, "ROUND": str(round_)})
    if await child.wait():
        print(f"[between] round {round_}: exit status {child.returncode}", file=sys.stderr)


async def _run(ns: argparse.Namespace) -> dict[str, Any]:
    from inference.engine.args import engine_args
    from inference.engine.vllm_api import AsyncLLM, UsageContext

    engine = AsyncLLM.from_engine_args(engine_args(ns), usage_context=UsageContext.ENGINE_CONTEXT)
    ids = _prompt_ids(ns.model, ns.prompt)
    report: dict[str, Any] = {
        "label": ns.label,
        "base_url": "in-process AsyncLLM",
        "model": ns.model,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"max_output_tokens": ns.max_output_tokens, "prompt_tokens": len(ids)},
        "levels": [],
    }
    levels = [int(x) for x in ns.concurrency.split(",") if x.strip()]
    spreads = [int(x) for x in ns.output_spread.split(",") if x.strip()]
    try:
        for round_ in range(1, ns.rounds + 1):
            if round_ > 1 and ns.between:
                await _between(ns.between, round_ - 1)
            for c, spread in itertools.product(levels, spreads):
                level = await _level(engine, ids, ns, c, spread)
                report["levels"].append({**level, "round": round_})
                print(
                    f"[{ns.label}] round {round_} concurrency {c} spread {spread}: "
                    f"{level['output_tokens_per_s']:.1f} out tok/s, "
                    f"TTFT p99 {level['ttft_ms']['p99']:.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
                if ns.json_out:
                    with open(ns.json_out, "w", encoding="utf-8") as fh:
                        json.dump(report, fh, indent=2)
    finally:
        engine.shutdown()
    return report


def main(argv: list[str] | None = None) -> int:
    ns = _arguments(list(sys.argv[1:] if argv is None else argv))
    report = asyncio.run(_run(ns))
    from bench.tables import markdown_table

    print(f"### {ns.label}: in-process AsyncLLM, max_output_tokens={ns.max_output_tokens}\n")
    print(markdown_table(report["levels"]))
    sys.stdout.flush()
    os._exit(0)  # the engine's background processes are gone; skip slow interpreter teardown


if __name__ == "__main__":
    sys.exit(main())
