"""The ``python -m bench.load`` command: load-test a streaming ``POST {base_url}/responses``.

Owns the command line and the run's report: the options, the request body
(``{"model", "input", "max_output_tokens", "stream": true, "temperature": 0}``, plus
``"ignore_eos": true`` by default, a vLLM sampling extension, and ``--extra-body``), the loop
over concurrency levels with its progress lines on stderr, the ``--json-out`` file (rewritten
after every level), the markdown table on stdout, the exit status, and the
``compare A.json B.json`` subcommand. Nothing it sends is Portico-specific, so it works the
same against Portico and against vLLM's own OpenAI server.

The rest of the load generator, by concept: ``bench.sse_request`` (one streaming request:
SSE parsing, TTFT / ITL / token count), ``bench.client_process`` (a spawned client process
and its asyncio workers), ``bench.level`` (one concurrency level spread over several client
processes), ``bench.level_stats`` (percentiles and the per-level numbers) and
``bench.tables`` (the markdown tables).

Usage::

    python -m bench.load --base-url http://127.0.0.1:8000/v1 --model NAME \\
        --concurrency 1,4,16,64 --json-out portico.json --label portico
    python -m bench.load compare portico.json vllm.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import httpx

from bench.level import cpu_count, run_level
from bench.tables import compare_table, markdown_table

DEFAULT_PROMPT = (
    "Write a long, detailed story about a lighthouse keeper who discovers a message in a "
    "bottle. Describe the sea, the weather and the keeper's daily routine."
)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text}") from exc
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("concurrency levels must be positive integers")
    return values


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be at least 0")
    return value


def output_lengths(mean: int, spread: int) -> list[int]:
    """The output lengths the requests cycle through: every integer in ``mean ± spread`` once,
    in a fixed shuffled order, so any whole number of cycles averages exactly ``mean``.
    A spread keeps a closed loop of ``ignore_eos`` streams from finishing (and starting again)
    in lockstep, as streams of one fixed length do."""
    if not 0 <= spread < mean:
        raise SystemExit(f"--output-spread must be at least 0 and below {mean}")
    lengths = list(range(mean - spread, mean + spread + 1))
    random.Random(mean * 1000 + spread).shuffle(lengths)
    return lengths


def build_parser() -> argparse.ArgumentParser:
    """The parser of the load-test command (the default subcommand)."""
    p = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="Streaming /responses load generator. "
        "`python -m bench.load compare A.json B.json` compares two --json-out files.",
    )
    p.add_argument(
        "--base-url",
        default="http://127.0.0.1:8000/v1",
        help="API root; requests go to {base-url}/responses",
    )
    p.add_argument("--model", required=True, help="model name sent in the body")
    p.add_argument(
        "--concurrency",
        type=_int_list,
        default=[1, 4, 16, 64],
        help="comma-separated concurrency levels (default 1,4,16,64)",
    )
    p.add_argument(
        "--requests",
        type=_positive_int,
        default=None,
        help="measured requests per level (default max(32, 4*concurrency))",
    )
    p.add_argument("--max-output-tokens", type=_positive_int, default=64)
    p.add_argument(
        "--output-spread",
        type=_non_negative_int,
        default=0,
        help="vary max_output_tokens over --max-output-tokens ± this many tokens, request by "
        "request, with the same mean (default 0: every request the same length)",
    )
    p.add_argument(
        "--processes",
        type=_positive_int,
        default=None,
        help="client processes per level (default min(concurrency, CPUs); "
        "never more than the concurrency)",
    )
    p.add_argument(
        "--warmup",
        type=_non_negative_int,
        default=None,
        help="untimed requests per level before the measured ones "
        "(default: the concurrency, i.e. one per worker)",
    )
    p.add_argument("--prompt", default=DEFAULT_PROMPT, help="the `input` text")
    p.add_argument("--label", default="bench", help="name of this run in the output")
    p.add_argument("--json-out", default=None, help="write all numbers to this JSON file")
    p.add_argument(
        "--ignore-eos",
        action=argparse.BooleanOptionalAction,
        default=True,
        help='send "ignore_eos": true so every request generates exactly '
        "--max-output-tokens tokens (vLLM extension; default on)",
    )
    p.add_argument(
        "--extra-body",
        default=None,
        help="JSON object merged into the request body (e.g. '{\"store\": false}')",
    )
    p.add_argument("--api-key", default=None, help="sent as `Authorization: Bearer KEY`")
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="per-request limit in seconds, whole stream included (default 300)",
    )
    return p


def run_main(argv: Sequence[str]) -> int:
    """The load-test command."""
    args = build_parser().parse_args(argv)
    body: dict[str, Any] = {
        "model": args.model,
        "input": args.prompt,
        "max_output_tokens": args.max_output_tokens,
        "stream": True,
        "temperature": 0,
    }
    if args.ignore_eos:
        body["ignore_eos"] = True
    if args.extra_body:
        extra = json.loads(args.extra_body)
        if not isinstance(extra, dict):
            raise SystemExit("--extra-body must be a JSON object")
        body.update(extra)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if args.api_key:
        headers["Authorization"] = f"Bearer {args.api_key}"
    args.url = args.base_url.rstrip("/") + "/responses"
    lengths = output_lengths(args.max_output_tokens, args.output_spread)
    args.bodies = tuple(json.dumps({**body, "max_output_tokens": n}).encode() for n in lengths)
    args.headers = headers

    report: dict[str, Any] = {
        "label": args.label,
        "base_url": args.base_url,
        "url": args.url,
        "model": args.model,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {
            "concurrency": args.concurrency,
            "requests": args.requests,
            "max_output_tokens": args.max_output_tokens,
            "output_spread": args.output_spread,
            "processes": args.processes,
            "warmup": args.warmup,
            "ignore_eos": args.ignore_eos,
            "timeout_s": args.timeout,
            "prompt": args.prompt,
            "body": body,
        },
        "client_host": {
            "cpus": cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "httpx": httpx.__version__,
        },
        "levels": [],
    }
    for c in args.concurrency:
        print(f"[{args.label}] concurrency {c} ...", file=sys.stderr, flush=True)
        level = run_level(args, c)
        report["levels"].append(level)
        print(
            f"[{args.label}] concurrency {c}: {level['ok']} ok, {level['errors']} errors, "
            f"{level['output_tokens_per_s']:.1f} out tok/s",
            file=sys.stderr,
            flush=True,
        )
        for kind, count in level["error_kinds"].items():
            print(f"    {count} x {kind}", file=sys.stderr)
        for msg in level["fatal"]:
            print(f"    client {msg}", file=sys.stderr)
        if args.json_out:  # write after every level, so an interrupted run keeps its numbers
            _write_json(args.json_out, report)

    print(
        f"### {args.label}: {args.url} model={args.model} "
        f"max_output_tokens={args.max_output_tokens}±{args.output_spread} "
        f"ignore_eos={args.ignore_eos}\n"
    )
    print(markdown_table(report["levels"]))
    return 1 if any(lv["errors"] or lv["fatal"] for lv in report["levels"]) else 0


def _write_json(path: str, report: dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2, default=_json_default)
        fh.write("\n")
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def compare_main(argv: Sequence[str]) -> int:
    """The ``compare A.json B.json`` command."""
    p = argparse.ArgumentParser(
        prog="python -m bench.load compare",
        description="Compare two --json-out files: throughput A/B and TTFT p50 A-B.",
    )
    p.add_argument("a", help="JSON file of run A")
    p.add_argument("b", help="JSON file of run B")
    args = p.parse_args(argv)
    with open(args.a, encoding="utf-8") as fh:
        a = json.load(fh)
    with open(args.b, encoding="utf-8") as fh:
        b = json.load(fh)
    print(compare_table(a, b))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``compare`` or the load test."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "compare":
        return compare_main(argv[1:])
    return run_main(argv)


if __name__ == "__main__":
    sys.exit(main())
