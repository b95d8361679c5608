"""The markdown tables the load generator prints.

Owns the presentation of results: the per-level table of one run (``markdown_table``) and the
run A against run B table of ``python -m bench.load compare`` (``compare_table``: output
tokens/s ratio A/B and TTFT p50 difference A-B per concurrency level present in both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.{digits}f}"


def markdown_table(levels: Sequence[dict[str, Any]]) -> str:
    """The per-level results as a markdown table."""
    header = (
        "| conc | procs | requests | errors | wall s | req/s | out tok/s | TTFT p50 ms "
        "| TTFT p99 ms | ITL p50 ms | ITL p99 ms | client CPU max % | client cores |"
    )
    sep = "|" + "---:|" * 13
    rows = [header, sep]
    for lv in levels:
        cpu = lv["client_cpu"]
        rows.append(
            "| "
            + " | ".join(
                [
                    str(lv["concurrency"]),
                    str(lv["processes"]),
                    str(lv["requests"]),
                    str(lv["errors"]),
                    _fmt(lv["wall_s"], 2),
                    _fmt(lv["requests_per_s"], 2),
                    _fmt(lv["output_tokens_per_s"], 1),
                    _fmt(lv["ttft_ms"]["p50"], 1),
                    _fmt(lv["ttft_ms"]["p99"], 1),
                    _fmt(lv["itl_ms"]["p50"], 2),
                    _fmt(lv["itl_ms"]["p99"], 2),
                    _fmt(cpu["max_process_busy_pct"], 0),
                    _fmt(cpu["cores_used"], 2),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def compare_table(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Markdown table of run A against run B, per concurrency level present in both."""
    la, lb = a.get("label", "A"), b.get("label", "B")
    by_b = {lv["concurrency"]: lv for lv in b["levels"]}
    rows = [
        f"A = {la} ({a.get('base_url', '?')}), B = {lb} ({b.get('base_url', '?')})",
        "",
        f"| conc | {la} out tok/s | {lb} out tok/s | throughput A/B | {la} TTFT p50 ms "
        f"| {lb} TTFT p50 ms | TTFT p50 A-B ms | errors A / B |",
        "|" + "---:|" * 8,
    ]
    for lv_a in a["levels"]:
        c = lv_a["concurrency"]
        lv_b = by_b.get(c)
        if lv_b is None:
            continue
        ta, tb = lv_a["output_tokens_per_s"], lv_b["output_tokens_per_s"]
        ratio = ta / tb if tb else None
        fa, fb = lv_a["ttft_ms"]["p50"], lv_b["ttft_ms"]["p50"]
        diff = fa - fb if fa is not None and fb is not None else None
        rows.append(
            f"| {c} | {_fmt(ta)} | {_fmt(tb)} | "
            + (f"{ratio:.3f}" if ratio is not None else "-")
            + f" | {_fmt(fa)} | {_fmt(fb)} | "
            + (f"{diff:+.1f}" if diff is not None else "-")
            + f" | {lv_a['errors']} / {lv_b['errors']} |"
        )
    missing = sorted(
        {lv["concurrency"] for lv in a["levels"]} ^ {lv["concurrency"] for lv in b["levels"]}
    )
    if missing:
        rows += ["", f"(concurrency levels in only one file, skipped: {missing})"]
    return "\n".join(rows)
