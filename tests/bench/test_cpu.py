"""bench.cpu: CPU per process over a window, read from /proc, named by role."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench import cpu


def test_a_busy_child_counts_near_one_core_and_an_idle_one_near_zero() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.3)
        before, start = cpu.snapshot([busy.pid, idle.pid]), time.monotonic()
        time.sleep(1.5)
        after = cpu.snapshot([busy.pid, idle.pid])
        rows = {row["pid"]: row for row in cpu.usage(before, after, time.monotonic() - start)}
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
    assert rows[busy.pid]["cores"] > 0.4  # a shared 2-core CI box still gives it a good share
    assert rows[busy.pid]["busiest_thread"] > 0.4
    assert rows[idle.pid]["cores"] < 0.1


def test_children_of_the_load_are_clients_and_roles_come_from_the_command_line() -> None:
    shard = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "--shard-slot", "{}"]
    )
    load = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; subprocess.run([sys.executable, "
            "'-c', 'import time; time.sleep(30)'])",
        ]
    )
    try:
        time.sleep(0.5)
        seen = cpu.snapshot([shard.pid], load.pid)
    finally:
        for process in (shard, load):
            process.kill()
            process.wait()
    assert seen[shard.pid].role == "sidecar shard"
    clients = [s for s in seen.values() if s.role == "load client"]
    assert len(clients) == 2  # the load command and its child


def test_the_table_adds_each_role_up() -> None:
    rows = [
        {"pid": 1, "role": "sidecar shard", "cores": 0.9, "busiest_thread": 0.8},
        {"pid": 2, "role": "sidecar shard", "cores": 0.7, "busiest_thread": 0.6},
        {"pid": 3, "role": "engine core", "cores": 1.0, "busiest_thread": 0.97},
    ]
    text = cpu.table(rows)
    assert "| sidecar shard | 2 | 1.60 | 0.90 | 0.80 |" in text
    assert text.index("sidecar shard") < text.index("engine core")  # the largest total first


def test_a_load_that_ends_inside_the_window_is_flagged(tmp_path: Path) -> None:
    short, long = tmp_path / "short.json", tmp_path / "long.json"
    quick = [sys.executable, "-c", "pass"]  # over long before the window closes (2 s in)
    slow = [sys.executable, "-c", "import time; time.sleep(2.5)"]  # outlasts its 0.5 s
    assert (
        cpu.main(["--settle", "0.5", "--window", "1.5", "--json-out", f"{short}", "--", *quick])
        == 0
    )
    assert (
        cpu.main(["--settle", "0.2", "--window", "0.3", "--json-out", f"{long}", "--", *slow]) == 0
    )
    assert json.loads(short.read_text())["load_ended_in_window"] is True
    assert json.loads(long.read_text())["load_ended_in_window"] is False
