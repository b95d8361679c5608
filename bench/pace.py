"""Token pace of a single stream at two layers, to find where per-token time goes.

Owns a diagnostic, not a benchmark of record: inter-token gaps of one stream measured (a) on
vLLM's AsyncLLM in-process and (b) on the sidecar's Unix socket (no HTTP frontend). Compare
with bench.load's ITL at concurrency 1 through HTTP.

    python -m bench.pace socket --socket PATH [--requests 32 --tokens 128]
    python -m bench.pace direct --model PATH [vLLM engine flags]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time

from frontend.client.uds import UdsSidecarClient
from inference.protocol import ChatMessage, Delta, GenerateRequest, Role, Sampling

PROMPT = "Write a story about a lighthouse keeper."


def report(layer: str, gaps: list[float], tokens: int, walls: list[float]) -> None:
    ms = sorted(g * 1000 for g in gaps)
    print(
        f"{layer}: ITL mean {statistics.fmean(ms):.3f} ms, p50 {ms[len(ms) // 2]:.3f} ms, "
        f"p90 {ms[int(len(ms) * 0.9)]:.3f} ms; {tokens / statistics.fmean(walls):.1f} tok/s "
        f"per stream over {len(walls)} requests",
        flush=True,
    )


async def socket_pace(path: str, requests: int, tokens: int) -> None:
    client = UdsSidecarClient(path)
    gaps: list[float] = []
    walls: list[float] = []
    for i in range(requests + 2):  # two warm-ups
        sampling = Sampling(max_tokens=tokens, temperature=0.0, ignore_eos=True)
        start = time.perf_counter()
        generation = await client.generate(
            GenerateRequest(f"pace-{i}", [ChatMessage(role=Role.USER, content=PROMPT)], sampling)
        )
        stamps = [
            time.perf_counter()
            async for batch in generation.batches()
            for m in batch
            if isinstance(m, Delta)
        ]
        await generation.close()
        if i >= 2:
            gaps += [b - a for a, b in itertools.pairwise(stamps)]
            walls.append(stamps[-1] - start)
    await client.stop()
    report("sidecar socket", gaps, tokens, walls)


async def direct_pace(argv: list[str], requests: int, tokens: int) -> None:
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.inputs import tokens_input
    from vllm.sampling_params import RequestOutputKind, SamplingParams
    from vllm.usage.usage_lib import UsageContext
    from vllm.utils.argparse_utils import FlexibleArgumentParser
    from vllm.v1.engine.async_llm import AsyncLLM

    parser = AsyncEngineArgs.add_cli_args(FlexibleArgumentParser())
    args = AsyncEngineArgs.from_cli_args(parser.parse_args(argv))
    engine = AsyncLLM.from_engine_args(args, usage_context=UsageContext.OPENAI_API_SERVER)
    ids = engine.get_tokenizer().encode(PROMPT)
    params = SamplingParams(
        max_tokens=tokens, temperature=0.0, ignore_eos=True, output_kind=RequestOutputKind.DELTA
    )
    gaps: list[float] = []
    walls: list[float] = []
    for i in range(requests + 2):
        start = time.perf_counter()
        stamps = [
            time.perf_counter() async for _ in engine.generate(tokens_input(ids), params, f"d{i}")
        ]
        if i >= 2:
            gaps += [b - a for a, b in itertools.pairwise(stamps)]
            walls.append(stamps[-1] - start)
    engine.shutdown()
    report("AsyncLLM in-process", gaps, tokens, walls)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pace", description=__doc__)
    parser.add_argument("layer", choices=["socket", "direct"])
    parser.add_argument("--socket", default="/tmp/portico/sidecar.sock")
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=128)
    ns, engine_argv = parser.parse_known_args()
    if ns.layer == "socket":
        asyncio.run(socket_pace(ns.socket, ns.requests, ns.tokens))
    else:
        asyncio.run(direct_pace(engine_argv, ns.requests, ns.tokens))


if __name__ == "__main__":
    main()
