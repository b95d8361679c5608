"""bench.compare: the servers' environment, native or on an emulated CPU."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import compare

pytest.importorskip("torch")  # the emulation is checked through torch, as vLLM sees it


def test_a_native_run_keeps_this_environment(tmp_path: Path) -> None:
    assert compare.server_env(argparse.Namespace(cpu="native", out=tmp_path)) is None
    assert not (tmp_path / "emulate").exists()


def test_an_avx2_run_hides_avx512_and_amx_from_torch(tmp_path: Path) -> None:
    env = compare.server_env(argparse.Namespace(cpu="avx2", out=tmp_path))
    assert env is not None and env["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    seen = "import json, torch; print(json.dumps([torch.backends.cpu.get_cpu_capability(), "
    seen += "torch.cpu._is_avx512_supported(), torch.cpu._is_amx_tile_supported()]))"
    done = subprocess.run(
        [sys.executable, "-c", seen], env=env, capture_output=True, text=True, check=True
    )
    capability, avx512, amx = json.loads(done.stdout.splitlines()[-1])
    assert capability in ("AVX2", "DEFAULT")  # never above what the emulated CPU has
    assert avx512 is False and amx is False
