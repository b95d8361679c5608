"""bench.folded: py-spy's raw stacks summed into self and inclusive time."""

from __future__ import annotations

from bench import folded

RAW = """main (a.py:1);loop (a.py:5);write (b.py:9) 6
main (a.py:1);loop (a.py:5) 3
main (a.py:1);idle (a.py:8) 1
"""


def test_self_and_inclusive_samples() -> None:
    total, own, inclusive = folded.summarize(RAW)
    assert total == 10
    assert own["write (b.py:9)"] == 6 and own["loop (a.py:5)"] == 3
    assert inclusive["main (a.py:1)"] == 10 and inclusive["loop (a.py:5)"] == 9


def test_report_in_percent() -> None:
    text = folded.report("x", RAW, top=2)
    assert " 60.0%  write (b.py:9)" in text
    assert "100.0%  main (a.py:1)" in text
