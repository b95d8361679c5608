"""bf16 against float32 on a CPU, natively and on emulated CPUs without bf16 instructions.

Owns the measurements behind "CPUs without AVX-512 BF16" in docs/benchmarks.md:

    python -m bench.cpu_dtype matmul [--isas native,avx2,avx512]
        a 512x512x512 matmul and a 1x576x1536 one (decode-sized) in bf16 and float32 on one
        thread, best of 5 rounds, per CPU: shows whether an emulation takes effect.
    python -m bench.cpu_dtype model [--model DIR] [--dtypes bfloat16,float32]
        [--isas native,avx2] [--concurrency 1,4] [--rounds 6] [--tokens 64]
        [--prompt-words N] [--env KEY=VALUE ...]
        per CPU, starts one sidecar per dtype (`python -m inference --enforce-eager
        --max-model-len 2048 [--dtype D]`), warms each up, then per concurrency level runs
        `--rounds` rounds of that many concurrent generations of `--tokens` tokens over the
        sockets, taking the sidecars in turns so every dtype sees the same background load.
        Prints per level output tok/s (median and best round), median decode pace and TTFT,
        and the sidecar's CPU time per output token. `auto` passes no --dtype: the row
        shows what the sidecar chose (engine/cpu.py). Every request's prompt starts with
        its own id, so vLLM's prefix cache never skips the prefill.

CPUs: "native" is this machine. "avx2" emulates an AVX2-only CPU (AMD EPYC Rome/Milan):
`ONEDNN_MAX_CPU_ISA=AVX2` (oneDNN's matmuls, the ones that make bf16 slow),
`ATEN_CPU_CAPABILITY=avx2` (PyTorch's own kernels), and a sitecustomize that makes torch.cpu
report no AVX-512 and no AMX, so vLLM loads its AVX2 kernel library (`vllm._C_AVX2`) and skips
its AMX GEMM and attention paths, as it does on such a CPU. "avx512" emulates AVX-512 without
BF16 (Cascade Lake) the same way. The hardware (caches, memory bandwidth, clock) stays this
machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from inference.embedded_model import default_model_dir
from inference.protocol import (
    PROTOCOL_VERSION,
    ChatMessage,
    Delta,
    Error,
    Final,
    GenerateRequest,
    Hello,
    Role,
    Sampling,
    Started,
    encode,
    read_message,
)

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "Write a story about a lighthouse keeper."
FILLER = "the keeper climbed the stairs each night to light the lamp for passing ships"

SITECUSTOMIZE = """\
import os
_hidden = os.environ.get("PORTICO_EMULATE_HIDE", "")
if _hidden:
    import torch.cpu
    for _name in _hidden.split(","):
        if hasattr(torch.cpu, _name):
            setattr(torch.cpu, _name, lambda: False)
"""

# What each emulated CPU hides from torch.cpu (so from vLLM's kernel choice), and caps.
NO_BF16 = ("_is_avx512_bf16_supported", "_is_amx_tile_supported", "_is_amx_fp16_supported")
EMULATED = {
    "avx2": {  # AVX2 only, e.g. AMD EPYC Rome/Milan
        "hide": ("_is_avx512_supported", "_is_avx512_vnni_supported", *NO_BF16),
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "ATEN_CPU_CAPABILITY": "avx2",
    },
    "avx512": {  # AVX-512 with VNNI but no BF16, e.g. Intel Cascade Lake
        "hide": NO_BF16,
        "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI",
        "ATEN_CPU_CAPABILITY": "avx512",
    },
}

MATMUL = """\
import json, os, time, torch
torch.set_num_threads(1)  # one thread: steadier on a shared machine, and the ratio is the point
out = {"aten": torch.backends.cpu.get_cpu_capability(),
       "avx512_bf16": torch.cpu._is_avx512_bf16_supported(),
       "amx": torch.cpu._is_amx_tile_supported(), "ms": {}}
for dtype in (torch.float32, torch.bfloat16):
    for m, k, n in ((512, 512, 512), (1, 576, 1536)):
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        for _ in range(3):
            a @ b
        best = float("inf")
        for _ in range(5):  # the best of 5 rounds: other processes share this CPU
            reps = 10 if m > 1 else 100
            start = time.perf_counter()
            for _ in range(reps):
                a @ b
            best = min(best, (time.perf_counter() - start) / reps * 1000)
        out["ms"][f"{str(dtype).removeprefix('torch.')} {m}x{k}x{n}"] = best
print(json.dumps(out))
"""


def emulation_env(isa: str, folder: Path) -> dict[str, str]:
    """The environment of a process that should see CPU `isa` (native, avx2 or avx512)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    if isa == "native":
        return env
    if isa not in EMULATED:
        raise SystemExit(f"unknown CPU {isa!r}: native, {', '.join(EMULATED)}")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(folder), str(ROOT), env.get("PYTHONPATH")) if p)
    emulated = EMULATED[isa]
    return env | {
        "ONEDNN_MAX_CPU_ISA": str(emulated["ONEDNN_MAX_CPU_ISA"]),
        "ATEN_CPU_CAPABILITY": str(emulated["ATEN_CPU_CAPABILITY"]),
        "PORTICO_EMULATE_HIDE": ",".join(emulated["hide"]),
        "PYTHONPATH": path,
    }


def matmul(isas: list[str]) -> None:
    print("| CPU | ATen | torch: avx512_bf16 / AMX | shape | fp32 ms | bf16 ms | bf16 / fp32 |")
    print("|---|---|---|---|---:|---:|---:|")
    for isa in isas:
        with tempfile.TemporaryDirectory() as folder:
            env = emulation_env(isa, Path(folder))
            done = subprocess.run(
                [sys.executable, "-c", MATMUL], env=env, capture_output=True, text=True, check=True
            )
        got = json.loads(done.stdout)
        for shape in ("512x512x512", "1x576x1536"):
            fp32, bf16 = got["ms"][f"float32 {shape}"], got["ms"][f"bfloat16 {shape}"]
            print(
                f"| {isa} | {got['aten']} | {got['avx512_bf16']} / {got['amx']} | {shape} "
                f"| {fp32:.3f} | {bf16:.3f} | {bf16 / fp32:.2f}x |",
                flush=True,
            )


async def one_request(socket: str, request_id: str, prompt: str, tokens: int) -> dict[str, float]:
    """One streamed generation over the sidecar's socket: its TTFT and token pace."""
    reader, writer = await asyncio.open_unix_connection(socket)
    try:
        writer.write(encode(Hello(protocol_version=PROTOCOL_VERSION)))
        await read_message(reader)  # the handshake
        sampling = Sampling(max_tokens=tokens, temperature=0.0, ignore_eos=True)
        message = ChatMessage(role=Role.USER, content=prompt)
        start = time.perf_counter()
        writer.write(encode(GenerateRequest(request_id, [message], sampling)))
        stamps: list[float] = []
        prompt_tokens = 0
        while True:
            reply = await read_message(reader)
            if isinstance(reply, Started):
                prompt_tokens = reply.prompt_tokens
            elif isinstance(reply, Delta):
                stamps.append(time.perf_counter())
            elif isinstance(reply, Final):
                break
            elif isinstance(reply, Error) or reply is None:
                raise RuntimeError(f"the sidecar answered {reply!r}")
        return {
            "prompt_tokens": prompt_tokens,
            "ttft_ms": (stamps[0] - start) * 1000,
            "decode_tok_s": (tokens - 1) / (stamps[-1] - stamps[0]),
        }
    finally:
        writer.close()


async def one_round(
    socket: str, name: str, prompt: str, tokens: int, concurrency: int
) -> tuple[float, list[dict[str, float]]]:
    """`concurrency` generations at once: the round's wall time and each one's sample."""
    start = time.perf_counter()
    samples = await asyncio.gather(
        # a distinct first line per request: vLLM's prefix cache must not skip the prefill
        *(
            one_request(socket, f"{name}-{i}", f"({name}-{i}) {prompt}", tokens)
            for i in range(concurrency)
        )
    )
    return time.perf_counter() - start, list(samples)


def chosen_dtype(log: str) -> str:
    """vLLM's resolved dtype, and the sidecar's dtype line (engine/cpu.py)."""
    mine = next((line for line in log.splitlines() if "CPU platform: dtype" in line), "")
    vllm = next((line for line in log.splitlines() if "dtype=torch." in line), "")
    resolved = vllm.split("dtype=torch.", 1)[1].split(",", 1)[0] if vllm else "?"
    said = mine.split("CPU platform: dtype", 1)[1].strip() if mine else "(no line)"
    return f"{resolved} [{said}]"


class Sidecar:
    """`python -m inference` on the model with one ISA and dtype, in a temporary folder."""

    def __init__(self, ns: argparse.Namespace, isa: str, dtype: str) -> None:
        self.isa, self.dtype = isa, dtype
        self.folder = Path(tempfile.mkdtemp(prefix="cpu-dtype-", dir="/tmp"))
        self.socket = str(self.folder / "s.sock")
        self.log_path = self.folder / "sidecar.log"
        env = emulation_env(isa, self.folder)
        env.update(kv.split("=", 1) for kv in ns.env)
        cmd = [sys.executable, "-m", "inference", "--socket", self.socket, "--model"]
        cmd += [str(ns.model), "--enforce-eager", "--max-model-len", "2048"]
        if dtype != "auto":
            cmd += ["--dtype", dtype]
        self.started = time.monotonic()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.start_s = 0.0
        # per concurrency: round wall times, request samples, CPU seconds of the sidecar's
        # process tree during measured rounds
        self.levels: dict[int, dict[str, Any]] = {}

    def wait(self, timeout: float) -> None:
        while not Path(self.socket).exists():
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_path.read_text(errors="replace")[-4000:])
            if time.monotonic() - self.started > timeout:
                raise RuntimeError("the sidecar did not open its socket in time")
            time.sleep(0.2)
        self.start_s = time.monotonic() - self.started

    def cpu_time(self) -> float:
        import psutil  # vLLM's dependency

        root = psutil.Process(self.proc.pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def round(self, name: str, ns: argparse.Namespace, concurrency: int) -> None:
        """One round of `concurrency` requests; measured unless `name` starts with warm."""
        before = self.cpu_time()
        wall, samples = asyncio.run(
            one_round(self.socket, name, ns.prompt_text, ns.tokens, concurrency)
        )
        if name.startswith("warm"):
            return
        level = self.levels.setdefault(concurrency, {"walls": [], "samples": [], "cpu_s": 0.0})
        level["walls"].append(wall)
        level["samples"] += samples
        level["cpu_s"] += self.cpu_time() - before

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        text = self.log_path.read_text(errors="replace")
        shutil.rmtree(self.folder, ignore_errors=True)
        return text

    def rows(self, log: str, tokens: int) -> list[dict[str, Any]]:
        out = []
        for concurrency, level in self.levels.items():
            samples = level["samples"]
            walls = level["walls"]
            out.append(
                {
                    "isa": self.isa,
                    "dtype_arg": self.dtype,
                    "ran_in": chosen_dtype(log),
                    "start_s": self.start_s,
                    "concurrency": concurrency,
                    "rounds": len(walls),
                    "tokens": tokens,
                    "prompt_tokens": samples[0]["prompt_tokens"],
                    # output tokens of a round / its wall time: the median round, the best
                    "tok_s_p50": concurrency * tokens / statistics.median(walls),
                    "tok_s_best": concurrency * tokens / min(walls),
                    "decode_tok_s_p50": statistics.median(s["decode_tok_s"] for s in samples),
                    "ttft_ms_p50": statistics.median(s["ttft_ms"] for s in samples),
                    "ttft_ms_best": min(s["ttft_ms"] for s in samples),
                    "cpu_ms_per_token": level["cpu_s"] * 1000 / (tokens * len(samples)),
                    "walls": walls,
                    "samples": samples,
                }
            )
        return out


def model(ns: argparse.Namespace) -> None:
    """Per ISA: every dtype's sidecar at once, their rounds taken in turns (same load)."""
    words = FILLER.split()
    ns.prompt_text = (
        " ".join(words[i % len(words)] for i in range(ns.prompt_words))
        if ns.prompt_words
        else PROMPT
    )
    levels = [int(c) for c in ns.concurrency.split(",")]
    rows: list[dict[str, Any]] = []
    print(
        "| CPU | --dtype | ran in [sidecar's line] | prompt tokens | concurrency "
        "| tok/s p50 (best) | decode tok/s p50 | TTFT p50 (best) ms | CPU ms/token |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
        flush=True,
    )
    for isa in ns.isas.split(","):
        sidecars: list[Sidecar] = []
        try:
            for dtype in ns.dtypes.split(","):  # one start at a time: they share the CPU
                sidecars.append(Sidecar(ns, isa, dtype))
                sidecars[-1].wait(ns.start_timeout)
            for sidecar in sidecars:
                for w in range(2):
                    sidecar.round(f"warm{w}", ns, 1)
            for concurrency in levels:
                for r in range(ns.rounds):  # the sidecars in turns, so they share the load
                    for sidecar in sidecars:
                        sidecar.round(f"c{concurrency}r{r}", ns, concurrency)
        finally:
            logs = [sidecar.stop() for sidecar in sidecars]
        for sidecar, log in zip(sidecars, logs, strict=True):
            for row in sidecar.rows(log, ns.tokens):
                rows.append(row)
                print(
                    f"| {isa} | {sidecar.dtype} | {row['ran_in']} | {row['prompt_tokens']} "
                    f"| {row['concurrency']} "
                    f"| {row['tok_s_p50']:.1f} ({row['tok_s_best']:.1f}) "
                    f"| {row['decode_tok_s_p50']:.1f} "
                    f"| {row['ttft_ms_p50']:.0f} ({row['ttft_ms_best']:.0f}) "
                    f"| {row['cpu_ms_per_token']:.1f} |",
                    flush=True,
                )
        if ns.json_out:
            ns.json_out.write_text(json.dumps(rows, indent=2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_dtype", description=__doc__)
    parser.add_argument("what", choices=["matmul", "model"])
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--isas", default="native,avx2")
    parser.add_argument("--dtypes", default="bfloat16,float32")
    parser.add_argument("--concurrency", default="1", help="comma-separated levels")
    parser.add_argument("--rounds", type=int, default=6, help="measured rounds per level")
    parser.add_argument("--prompt-words", type=int, default=0, help="a long prompt instead")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--start-timeout", type=float, default=300)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the sidecar")
    parser.add_argument("--json-out", type=Path, default=None)
    ns = parser.parse_args(argv)
    if ns.what == "matmul":
        matmul(ns.isas.split(","))
    else:
        model(ns)


if __name__ == "__main__":
    main()
