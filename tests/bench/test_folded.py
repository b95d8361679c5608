"""bench.folded: py-spy's raw stacks summed into self and inclusive time."""

from __future__ import annotations

from bench import folded

RAW = """main (a.py:1);loop (a.py:5);write (b.py:9) 6
main (a.py:1);loop (a.py:5) 3
main (a.py:1);idle (a.py:8) 1
"""


def test_self_and_inclusive_samples() -> None:
    total, own, inclusive, threads = folded.summarize(RAW)
    assert total == 10
    assert own["write (b.py:9)"] == 6 and own["loop (a.py:5)"] == 3
    assert inclusive["main (a.py:1)"] == 10 and inclusive["loop (a.py:5)"] == 9
    assert not threads


def test_report_in_percent() -> None:
    text = folded.report("x", RAW, top=2)
    assert " 60.0%  write (b.py:9)" in text
    assert "100.0%  main (a.py:1)" in text


THREADS = """thread (11): MainThread;main (a.py:1);step (a.py:3) 7
thread (12): EngineCoreOutputQueueThread;run (c.py:2);encode (c.py:4) 2
thread (13);run (c.py:2) 1
"""


def test_samples_by_thread_with_py_spy_threads() -> None:
    total, own, inclusive, threads = folded.summarize(THREADS)
    assert total == 10
    assert threads == {"MainThread": 7, "EngineCoreOutputQueueThread": 2, "thread (13)": 1}
    assert own["step (a.py:3)"] == 7 and inclusive["run (c.py:2)"] == 3
    assert not any(frame.startswith("thread (") for frame in inclusive)
    assert "time by thread\n 70.0%  MainThread" in folded.report("x", THREADS)
