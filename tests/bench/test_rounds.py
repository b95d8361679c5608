"""bench.rounds: an interleaved run's loads summed up against the ceiling and one worker."""

from __future__ import annotations

import json
from pathlib import Path

from bench import rounds


def _level(c: int, tok: float, p99: float = 100.0, **extra: object) -> dict:
    return {"concurrency": c, "output_tokens_per_s": tok, "ttft_ms": {"p99": p99}, **extra}


def _run(tmp_path: Path) -> Path:
    engine = [_level(256, t, round=r) for r, t in ((1, 20_000), (2, 30_000), (3, 22_000))]
    (tmp_path / "engine.json").write_text(json.dumps({"levels": engine}))
    for (w, r), tok in {(1, 1): 20_000, (2, 1): 22_000, (1, 2): 25_000, (2, 2): 25_000}.items():
        load = {"levels": [_level(256, tok, errors=0)]}
        (tmp_path / f"w{w}-c256-r{r}.json").write_text(json.dumps(load))
    cpu = {
        "seconds": 8.0,
        "processes": [{"pid": 7, "role": "engine core", "cores": 0.99, "busiest_thread": 0.97}],
    }
    (tmp_path / "cpu-w2-c256-r2.json").write_text(json.dumps(cpu))
    return tmp_path


def test_medians_and_ratios_to_the_ceiling(tmp_path: Path) -> None:
    text = "\n".join(rounds.by_round(_run(tmp_path)))
    assert "| 256 | engine-only | 20,000 | 30,000 | 22,000 | 22,000 | 1.00 |" in text
    assert "| 256 | Portico, 1 worker | 20,000 | 25,000 |  | 22,500 | 1.02 |" in text


def test_each_load_against_the_two_ceiling_loads_around_it(tmp_path: Path) -> None:
    text = "\n".join(rounds.bracketed(_run(tmp_path)))
    assert "| 256 | 1 | 1 | 20,000 | 25,000 | 0.80 |" in text  # between rounds 1 and 2
    assert "| 256 | 2 | 2 | 25,000 | 26,000 | 0.96 |" in text  # between rounds 2 and 3


def test_workers_against_one_worker_round_by_round(tmp_path: Path) -> None:
    text = "\n".join(rounds.against_one_worker(_run(tmp_path)))
    assert "| 256 | 2 | 1.10, 1.00 | 1.05 |" in text


def test_cpu_of_the_last_round(tmp_path: Path) -> None:
    text = "\n".join(rounds.cpu_by_role(_run(tmp_path)))
    assert "2 workers, 256 streams, round 2" in text
    assert "| engine core | 1 | 0.99 | 0.99 | 0.97 |" in text


def test_the_engine_between_two_scrapes(tmp_path: Path) -> None:
    scrapes = """at 100.0
portico_engine_requests_running 500.0
portico_engine_steps_total 1500.0
portico_output_tokens_total{model="m"} 100000.0
at 110.0
portico_engine_requests_running 480.0
portico_engine_steps_total 2500.0
portico_output_tokens_total{model="m"} 400000.0
"""
    (tmp_path / "gauges-w2-c512-r1.txt").write_text(scrapes)
    text = "\n".join(rounds.engine_batch(tmp_path))
    # 1,000 steps in 10 s, 300,000 tokens over them; the least of the running batch is 480
    assert "| 512 | 2 workers | 490 | 480 | 100 | 300 | - |" in text


def test_steps_by_kind_between_two_scrapes(tmp_path: Path) -> None:
    scrapes = """at 100.0
portico_engine_requests_running 500.0
portico_engine_steps_total 1000.0
portico_engine_steps_by_kind_total{kind="prefill"} 100.0
portico_engine_steps_by_kind_total{kind="decode"} 900.0
at 110.0
portico_engine_requests_running 500.0
portico_engine_steps_total 1500.0
portico_engine_steps_by_kind_total{kind="prefill"} 200.0
portico_engine_steps_by_kind_total{kind="decode"} 1300.0
"""
    (tmp_path / "gauges-v4-c512-r2.txt").write_text(scrapes)
    text = "\n".join(rounds.engine_batch(tmp_path))
    # 100 of the 500 steps between the scrapes ran prompt tokens
    assert "| 512 | 4 workers, varied lengths | 500 | 500 | 50 | 0 | 20 % |" in text


def test_varied_loads_against_their_own_ceiling_and_the_fixed_loads(tmp_path: Path) -> None:
    run = _run(tmp_path)
    varied = [_level(256, 40_000, round=r, output_spread=64) for r in (1, 2, 3)]
    engine = json.loads((run / "engine.json").read_text())
    (run / "engine.json").write_text(json.dumps({"levels": engine["levels"] + varied}))
    for (w, r), tok in {(1, 1): 30_000, (2, 1): 44_000}.items():
        (run / f"v{w}-c256-r{r}.json").write_text(json.dumps({"levels": [_level(256, tok)]}))
    fixed = "\n".join(rounds.by_round(run))
    assert "| 256 | engine-only | 20,000 | 30,000 | 22,000 | 22,000 | 1.00 |" in fixed
    text = "\n".join(rounds.by_round(run, "v"))
    assert "| 256 | engine-only | 40,000 | 40,000 | 40,000 | 40,000 | 1.00 |" in text
    assert "| 256 | Portico, 2 workers | 44,000 |  |  | 44,000 | 1.10 |" in text
    text = "\n".join(rounds.against_fixed_unpinned(run, "v"))
    assert "varied lengths / plain" in text
    assert "| 256 | 1 | 1.50 | 1.50 |" in text  # 30,000 against w1-c256-r1's 20,000
    assert "| 256 | 2 | 2.00 | 2.00 |" in text
    assert "\n".join(rounds.against_one_worker(run, "v")).endswith("| 256 | 2 | 1.47 | 1.47 |")


def test_a_load_that_ended_inside_the_window_is_marked(tmp_path: Path) -> None:
    scrapes = "at 100.0\nportico_engine_steps_total 0\nat 110.0\nportico_engine_steps_total 500\n"
    for load, ended in (("w1-c512-r1", False), ("w4-c512-r1", True)):
        (tmp_path / f"gauges-{load}.txt").write_text(scrapes)
        cpu = {"seconds": 6.0, "processes": [], "load_ended_in_window": ended}
        (tmp_path / f"cpu-{load}.json").write_text(json.dumps(cpu))
        (tmp_path / f"{load}.json").write_text(json.dumps({"levels": [_level(512, 1.0)]}))
    batch = "\n".join(rounds.engine_batch(tmp_path))
    assert "| 512 | 1 worker | 0 |" in batch
    assert "| 512 | 4 workers \\* | 0 |" in batch
    assert "a load ended inside the window" in batch
    roles = "\n".join(rounds.cpu_by_role(tmp_path))
    assert "4 workers, 512 streams, round 1 (6 s window, the load ended inside it" in roles
    assert "1 worker, 512 streams, round 1 (6 s window):" in roles
