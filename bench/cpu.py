"""CPU per process while a load runs: which process of the pod is the one that is saturated.

Runs a command (the load), and in the middle of it reads `/proc` twice, `--window` seconds
apart: every process under the `--root` PIDs and under the command itself, with the CPU each
used over the window in cores and the CPU of its busiest thread (a Python process whose
busiest thread is near 1.0 is held by its GIL, whatever its total). Processes are named by
role from their command line (sidecar, shard, engine core, frontend worker, load client), and
the table adds each role up.

    python -m bench.cpu --root $SIDECAR --root $FRONTEND --settle 8 --window 15 \\
        --json-out cpu.json -- python -m bench.load ...

A load that ends before the window does leaves its drain (and idle time) in the figures:
the table then says so and the JSON has `"load_ended_in_window": true` (bench.rounds marks
such loads); give the load more requests.

Linux only (it reads /proc). The command's output passes through; its exit status is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
ROLES = (  # first match wins: (text in the command line, role)
    ("--shard-slot", "sidecar shard"),
    ("EngineCore", "engine core"),
    ("DPCoordinator", "dp coordinator"),
    ("-m inference", "sidecar first process"),
    ("resource_tracker", "multiprocessing tracker"),
    ("sanic", "frontend main"),
    ("spawn_main", "frontend worker"),
    ("redis-server", "redis"),
)


@dataclass(frozen=True)
class Sample:
    """One process at one moment: CPU ticks of the process and of its busiest thread."""

    pid: int
    role: str
    ticks: int
    threads: dict[int, int]


def _ticks(stat: Path) -> int:
    # utime and stime are fields 14 and 15; the command name (field 2) may hold spaces.
    fields = stat.read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree(roots: list[int]) -> list[int]:
    seen: list[int] = []
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen or not (PROC / str(pid)).exists():
            continue
        seen.append(pid)
        todo += _children(pid)
    return seen


def _role(pid: int) -> str:
    try:
        line = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        name = (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return "gone"
    text = f"{name} {line}"
    return next((role for needle, role in ROLES if needle in text), name)


def snapshot(roots: list[int], load: int | None = None) -> dict[int, Sample]:
    """Every live process under `roots` and `load`, with its ticks and its threads' ticks."""
    clients = _tree([load]) if load is not None else []
    found: dict[int, Sample] = {}
    for pid in _tree(roots) + clients:
        base = PROC / str(pid)
        role = "load client" if pid in clients else _role(pid)
        try:
            threads = {int(t.name): _ticks(t / "stat") for t in (base / "task").iterdir()}
            found[pid] = Sample(pid, role, _ticks(base / "stat"), threads)
        except (OSError, ValueError):
            continue
    return found


def usage(before: dict[int, Sample], after: dict[int, Sample], seconds: float) -> list[dict]:
    """Cores per process over the window (processes alive at both ends), busiest first."""
    hz = os.sysconf("SC_CLK_TCK") * seconds
    rows = []
    for pid, end in after.items():
        start = before.get(pid)
        if start is None:
            continue
        busiest = max(
            (ticks - start.threads.get(tid, ticks) for tid, ticks in end.threads.items()),
            default=0,
        )
        rows.append(
            {
                "pid": pid,
                "role": end.role,
                "cores": round((end.ticks - start.ticks) / hz, 3),
                "busiest_thread": round(busiest / hz, 3),
            }
        )
    return sorted(rows, key=lambda row: -row["cores"])


def table(rows: list[dict]) -> str:
    """Markdown: one line per role (count, total cores, the busiest process and thread)."""
    by_role: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_role[row["role"]].append(row)
    lines = [
        "| role | processes | cores, all | busiest process | its busiest thread |",
        "|---|---:|---:|---:|---:|",
    ]
    for role, group in sorted(by_role.items(), key=lambda kv: -sum(r["cores"] for r in kv[1])):
        top = max(group, key=lambda r: r["cores"])
        total = sum(r["cores"] for r in group)
        lines.append(
            f"| {role} | {len(group)} | {total:.2f} | {top['cores']:.2f} | "
            f"{top['busiest_thread']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[args.index("--") + 1 :] if "--" in args else []
    parser = argparse.ArgumentParser(prog="python -m bench.cpu")
    parser.add_argument("--root", type=int, action="append", default=[])
    parser.add_argument("--settle", type=float, default=8.0, help="seconds before the window")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--json-out", default="")
    options = parser.parse_args(args[: args.index("--")] if "--" in args else args)
    if not command:
        parser.error("give the load command after --")
    load = subprocess.Popen(command)
    time.sleep(options.settle)
    before, start = snapshot(options.root, load.pid), time.monotonic()
    time.sleep(options.window)
    ended = load.poll() is not None
    after, seconds = snapshot(options.root, load.pid), time.monotonic() - start
    rows = usage(before, after, seconds)
    status = load.wait()
    print(f"CPU per process over {seconds:.1f} s, {options.settle:.0f} s into the load:")
    if ended:
        print("(the load ended inside the window: these figures include its drain and idle time)")
    print(table(rows))
    if options.json_out:
        report = {"seconds": seconds, "processes": rows, "load_ended_in_window": ended}
        Path(options.json_out).write_text(json.dumps(report))
    return status


if __name__ == "__main__":
    sys.exit(main())
