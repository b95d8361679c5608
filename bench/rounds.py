"""The summary of an interleaved run (bench/device/scaling.sh): ceiling and Portico in turns.

Reads a run folder: `engine.json` (bench.engine with `--rounds`, each level tagged with its
round), `wW-cC-rR.json` (bench.load: W Sanic workers, C streams, Portico round R, which ran
between ceiling rounds R and R+1; `pW-...` the same with the processes pinned to CPUs),
`vW-...` with output lengths varied around the same mean (bench.load --output-spread; its
ceiling is engine.json's levels with an output_spread), `cpu-wW-cC-rR.json` (bench.cpu over
that load) and `gauges-wW-cC-rR.txt` (the engine's running
and waiting requests scraped from /metrics during it). Prints markdown: every load's tok/s by
round with medians and ratios to the ceiling; each Portico load against the mean of the two
ceiling loads around it; W workers against 1 worker in the same round; pinned and varied
against plain; the engine's batch during each load; the CPU per process role of the last round.

    python -m bench.rounds RUN_DIR
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.cpu import table

LOAD = re.compile(r"^([wpv])(\d+)-c(\d+)-r(\d+)$")
SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$")
KIND = re.compile(r'kind="([a-z]+)"')
MODES = {"w": "", "p": ", pinned", "v": ", varied lengths"}


def _loads(run: Path, mode: str = "w") -> dict[tuple[int, int, int], dict[str, Any]]:
    """(workers, streams, round) -> the load's level, for one mode (w unpinned, p pinned)."""
    found = {}
    for path in run.glob(f"{mode}*-c*-r*.json"):
        match = LOAD.match(path.stem)
        if match:
            w, c, r = (int(x) for x in match.groups()[1:])
            found[(w, c, r)] = json.loads(path.read_text())["levels"][0]
    return found


def _ceiling(run: Path, mode: str = "w") -> dict[tuple[int, int], dict[str, Any]]:
    """(streams, round) -> the engine-only level with the mode's output lengths: varied for
    the `v` loads, fixed for the others."""
    path = run / "engine.json"
    if not path.exists():
        return {}
    levels = json.loads(path.read_text())["levels"]
    return {
        (lv["concurrency"], lv.get("round", 1)): lv
        for lv in levels
        if bool(lv.get("output_spread", 0)) == (mode == "v")
    }


def _tok(level: dict[str, Any]) -> float:
    return float(level["output_tokens_per_s"])


def _p99(level: dict[str, Any]) -> float:
    return float(level["ttft_ms"]["p99"] or 0)


def by_round(run: Path, mode: str = "w") -> list[str]:
    """Every load's tok/s by round, the median, its ratio to the ceiling's median, TTFT p99."""
    loads, ceiling = _loads(run, mode), _ceiling(run, mode)
    rounds = sorted({r for *_, r in loads} | {r for _, r in ceiling})
    lines = [
        "| streams | what | " + " | ".join(f"round {r}" for r in rounds) + " | median | "
        "to ceiling | TTFT p99 median ms | errors |",
        "|---|---|" + "---:|" * (len(rounds) + 4),
    ]
    streams = sorted({c for _, c, _ in loads} | {c for c, _ in ceiling})
    workers = sorted({w for w, _, _ in loads})
    for c in streams:
        top = [lv for (cc, _), lv in ceiling.items() if cc == c]
        top_median = statistics.median(_tok(lv) for lv in top) if top else 0.0
        rows: list[tuple[str, dict[int, dict[str, Any]]]] = [
            ("engine-only", {r: lv for (cc, r), lv in ceiling.items() if cc == c})
        ]
        rows += [
            (
                f"Portico, {w} worker{'s' * (w > 1)}",
                {r: loads[(w, c, r)] for (ww, cc, r) in loads if (ww, cc) == (w, c)},
            )
            for w in workers
        ]
        for name, got in rows:
            if not got:
                continue
            median = statistics.median(_tok(lv) for lv in got.values())
            cells = " | ".join(f"{_tok(got[r]):,.0f}" if r in got else "" for r in rounds)
            ratio = f"{median / top_median:.2f}" if top_median else "-"
            p99 = statistics.median(_p99(lv) for lv in got.values())
            errors = sum(int(lv.get("errors", 0)) for lv in got.values())
            lines.append(
                f"| {c} | {name} | {cells} | {median:,.0f} | {ratio} | {p99:,.0f} | {errors} |"
            )
    return lines


def bracketed(run: Path, mode: str = "w") -> list[str]:
    """Each Portico load against the mean of the ceiling loads just before and after it."""
    loads, ceiling = _loads(run, mode), _ceiling(run, mode)
    lines = [
        "| streams | workers | round | tok/s | ceiling around it | ratio |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for (w, c, r), level in sorted(loads.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        around = [ceiling[(c, x)] for x in (r, r + 1) if (c, x) in ceiling]
        if not around:
            continue
        mean = statistics.mean(_tok(lv) for lv in around)
        lines.append(
            f"| {c} | {w} | {r} | {_tok(level):,.0f} | {mean:,.0f} | {_tok(level) / mean:.2f} |"
        )
    return lines


def against_one_worker(run: Path, mode: str = "w") -> list[str]:
    """W workers / 1 worker, load by load in the same round, and the median of those ratios."""
    loads = _loads(run, mode)
    ratios: dict[tuple[int, int], list[float]] = defaultdict(list)
    for (w, c, r), level in sorted(loads.items(), key=lambda kv: kv[0][2]):
        one = loads.get((1, c, r))
        if w != 1 and one:
            ratios[(w, c)].append(_tok(level) / _tok(one))
    lines = ["| streams | workers | ratio to 1 worker, by round | median |", "|---:|---:|---|---:|"]
    for (w, c), values in sorted(ratios.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        listed = ", ".join(f"{v:.2f}" for v in values)
        lines.append(f"| {c} | {w} | {listed} | {statistics.median(values):.2f} |")
    return lines


def against_fixed_unpinned(run: Path, mode: str) -> list[str]:
    """A mode's loads (pinned, varied lengths) / the plain loads, same workers, streams and
    round."""
    plain, other = _loads(run, "w"), _loads(run, mode)
    ratios: dict[tuple[int, int], list[float]] = defaultdict(list)
    for key, level in sorted(other.items(), key=lambda kv: kv[0][2]):
        if key in plain:
            ratios[key[:2]].append(_tok(level) / _tok(plain[key]))
    lines = [
        f"| streams | workers | {MODES[mode].strip(', ')} / plain, by round | median |",
        "|---:|---:|---|---:|",
    ]
    for (w, c), values in sorted(ratios.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        listed = ", ".join(f"{v:.2f}" for v in values)
        lines.append(f"| {c} | {w} | {listed} | {statistics.median(values):.2f} |")
    return lines if ratios else []


def _scrapes(text: str) -> list[tuple[float, dict[str, float]]]:
    """gauges-*.txt: `at SECONDS` lines, each followed by /metrics samples; per scrape, the
    samples summed by name over their labels, except a `kind` label, which stays in the key
    (`name:kind`)."""
    scrapes: list[tuple[float, dict[str, float]]] = []
    for line in text.splitlines():
        if line.startswith("at "):
            scrapes.append((float(line[3:]), defaultdict(float)))
            continue
        sample = SAMPLE.match(line.strip())
        if sample and scrapes:
            name, labels, value = sample.groups()
            kind = KIND.search(labels or "")
            scrapes[-1][1][f"{name}:{kind.group(1)}" if kind else name] += float(value)
    return scrapes


def _batch(text: str) -> dict[str, float] | None:
    """Running requests (mean and least of the scrapes); steps/s and output tokens per step
    between the first and the last scrape."""
    scrapes = _scrapes(text)
    if len(scrapes) < 2:
        return None
    (t0, first), (t1, last) = scrapes[0], scrapes[-1]

    steps = last["portico_engine_steps_total"] - first["portico_engine_steps_total"]
    tokens = last["portico_output_tokens_total"] - first["portico_output_tokens_total"]
    running = [s.get("portico_engine_requests_running", 0.0) for _, s in scrapes]

    def delta(key: str) -> float:
        return last.get(key, 0.0) - first.get(key, 0.0)

    kinds = {k: delta(f"portico_engine_steps_by_kind_total:{k}") for k in ("prefill", "decode")}
    return {
        "prefill_share": kinds["prefill"] / sum(kinds.values()) if sum(kinds.values()) else -1,
        "running": statistics.mean(running),
        "running_min": min(running),
        "steps_per_s": steps / (t1 - t0) if t1 > t0 else 0.0,
        "tokens_per_step": tokens / steps if steps else 0.0,
    }


def _share(value: float) -> str:
    return "-" if value < 0 else f"{100 * value:.0f} %"


def _ended_in_window(run: Path, load: str) -> bool:
    """Whether bench.cpu saw this load end before its window did (the drain measured too)."""
    path = run / f"cpu-{load}.json"
    return path.exists() and bool(json.loads(path.read_text()).get("load_ended_in_window"))


def engine_batch(run: Path) -> list[str]:
    """The engine during each load (from /metrics): its running batch (mean and least of the
    scrapes), steps per second, output tokens per step, and where the sidecar ran with vLLM's
    iteration details the share of steps that ran prompt tokens (medians of the rounds; "-"
    where not reported). A row is marked where one of its loads ended inside the window."""
    seen: dict[tuple[str, int, int], list[dict[str, float]]] = defaultdict(list)
    short: set[tuple[str, int, int]] = set()
    for path in run.glob("gauges-*.txt"):
        load = path.stem.removeprefix("gauges-")
        match = LOAD.match(load)
        batch = _batch(path.read_text()) if match else None
        if match and batch:
            key = (match.group(1), int(match.group(2)), int(match.group(3)))
            seen[key].append(batch)
            if _ended_in_window(run, load):
                short.add(key)
    lines = [
        "| streams | what | running | running, least | steps/s | output tokens per step | "
        "steps with prompt tokens |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for (mode, w, c), got in sorted(seen.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):

        def median(key: str, got: list[dict[str, float]] = got) -> float:
            return statistics.median(b[key] for b in got)

        mark = " \\*" if (mode, w, c) in short else ""
        lines.append(
            f"| {c} | {w} worker{'s' * (w > 1)}{MODES[mode]}{mark} | {median('running'):.0f} | "
            f"{median('running_min'):.0f} | {median('steps_per_s'):.0f} | "
            f"{median('tokens_per_step'):.0f} | {_share(median('prefill_share'))} |"
        )
    if short:
        lines.append(
            "\n\\* a load ended inside the window: its figures include the drain "
            "(give the load more requests)"
        )
    return lines if seen else []


def cpu_by_role(run: Path, mode: str = "w") -> list[str]:
    """Cores per role during each worker count's load at the most streams, last round."""
    loads = _loads(run, mode)
    if not loads:
        return []
    c = max(c for _, c, _ in loads)
    r = max(r for _, cc, r in loads if cc == c)
    lines = []
    for w in sorted({w for w, _, _ in loads}):
        path = run / f"cpu-{mode}{w}-c{c}-r{r}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        ended = data.get("load_ended_in_window")
        note = ", the load ended inside it: drain included" if ended else ""
        lines += [
            f"\n{w} worker{'s' * (w > 1)}{MODES[mode]}, {c} streams, round {r} "
            f"({data['seconds']:.0f} s window{note}):",
            "",
        ]
        lines += table(data["processes"]).splitlines()
    return lines


def main(argv: list[str] | None = None) -> int:
    run = Path((sys.argv[1:] if argv is None else argv)[0])
    parts: list[tuple[str, list[str]]] = []
    for mode, name in (("w", ""), ("p", " (pinned)"), ("v", " (varied lengths)")):
        if not _loads(run, mode):
            continue
        parts += [
            (f"Throughput by round{name}: ceiling and Portico take turns", by_round(run, mode)),
            (f"Each Portico load against the ceiling loads around it{name}", bracketed(run, mode)),
            (f"More workers against 1 worker, same round{name}", against_one_worker(run, mode)),
        ]
    parts += [
        ("Pinned against unpinned, same round", against_fixed_unpinned(run, "p")),
        ("Varied output lengths against fixed, same round", against_fixed_unpinned(run, "v")),
        ("The engine's batch during each load (/metrics)", engine_batch(run)),
    ]
    parts += [(f"CPU per process role{name}", cpu_by_role(run, m)) for m, name in MODES.items()]
    for title, lines in parts:
        if len(lines) > 2:
            print(f"\n#### {title}\n")
            print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
