"""The sharded sidecar's first process (inference/engine/shards.py): it watches real child
processes and stops the sidecar when a shard or an engine process exits; stopping passes
SIGTERM on and kills a shard that outstays its grace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("vllm")

from inference.engine import shards
from inference.engine.slot import Slot


def child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


class Engines:
    """What _supervise reads of vLLM's engine manager."""

    def __init__(self) -> None:
        self.finished: dict[str, int] = {}

    def finished_procs(self) -> dict[str, int]:
        return self.finished


def test_a_shard_that_exits_stops_the_sidecar() -> None:
    running = child("import time; time.sleep(30)")
    dying = child("import time; time.sleep(0.3); raise SystemExit(3)")
    try:
        started = time.monotonic()
        assert shards._supervise([running, dying], Engines()) == 1
        assert time.monotonic() - started < 5
    finally:
        shards._stop_shards([running, dying], grace=5)
    assert running.returncode is not None and dying.returncode == 3


def test_an_engine_process_that_exits_stops_the_sidecar(monkeypatch: pytest.MonkeyPatch) -> None:
    engines = Engines()
    running = child("import time; time.sleep(30)")
    monkeypatch.setattr(shards, "POLL", 0.05)
    try:
        engines.finished = {"EngineCore_DP0": 1}
        assert shards._supervise([running], engines) == 1
        assert running.poll() is None  # the caller stops the shards
    finally:
        shards._stop_shards([running], grace=5)
    assert running.returncode is not None


def test_stopping_passes_sigterm_on_then_kills() -> None:
    polite = child("import time; time.sleep(30)")  # SIGTERM ends it at once
    stubborn = child(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(30)"
    )
    time.sleep(0.5)  # the stubborn one has set its handler
    started = time.monotonic()
    shards._stop_shards([polite, stubborn], grace=1.0)
    assert polite.returncode == -15  # SIGTERM
    assert stubborn.returncode == -9  # killed after the grace
    assert time.monotonic() - started < 5


def test_a_slot_travels_as_one_argument() -> None:
    slot = Slot(1, 2, {"input_address": "ipc:///tmp/a", "stats_update_address": None}, 42)
    assert Slot.loads(slot.dumps()) == slot


def test_a_shard_whose_first_process_is_gone_stops_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int]] = []

    class Libc:  # records PR_SET_PDEATHSIG instead of setting it on the test runner
        def __init__(self, *args: object, **kwargs: object) -> None:
            self.prctl = lambda option, sig: calls.append((option, sig))

    monkeypatch.setattr(shards.ctypes, "CDLL", Libc)
    with pytest.raises(SystemExit, match="first process is gone"):
        shards.die_with_parent(parent=2**22 + 7)  # not this process's parent
    shards.die_with_parent(parent=os.getppid())  # its parent: it carries on
    assert calls == [(1, signal.SIGTERM)] * 2  # PR_SET_PDEATHSIG, SIGTERM
