"""inference/engine/cadence.py: `--prefill-schedule-interval N` on one engine. `install` picks
the cadenced scheduler only where vLLM would ignore the flag; vLLM's real scheduler, driven
step by step, then admits a prompt that arrives while another request decodes only on every
Nth step, and at once when nothing runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("vllm")

from vllm.sampling_params import SamplingParams
from vllm.utils.import_utils import resolve_obj_by_qualname
from vllm.v1.core.sched.output import SchedulerOutput
from vllm.v1.kv_cache_interface import FullAttentionSpec, KVCacheConfig, KVCacheGroupSpec
from vllm.v1.outputs import ModelRunnerOutput
from vllm.v1.request import Request
from vllm.v1.structured_output import StructuredOutputManager

from inference.embedded_model import default_model_dir
from inference.engine import cadence
from inference.engine.vllm_api import AsyncEngineArgs, UsageContext

MODEL = Path(os.environ.get("PORTICO_TEST_TOKENIZER", default_model_dir()))
BLOCK = 16


def config(**flags: Any) -> Any:
    if not (MODEL / "config.json").exists():
        pytest.skip(f"no converted model at {MODEL} (scripts/install.sh makes it)")
    args = AsyncEngineArgs(model=str(MODEL), max_model_len=512, **flags)
    return args.create_engine_config(usage_context=UsageContext.OPENAI_API_SERVER)


def test_installs_only_where_vllm_would_ignore_the_interval() -> None:
    assert not cadence.install(off := config())  # vLLM's default interval, 1
    assert off.scheduler_config.scheduler_cls is None

    on = config(prefill_schedule_interval=4)
    assert cadence.install(on)
    chosen = resolve_obj_by_qualname(on.scheduler_config.scheduler_cls)  # as the core does
    expected = (
        cadence.CadencedAsyncScheduler
        if on.scheduler_config.async_scheduling
        else cadence.CadencedScheduler
    )
    assert chosen is expected

    own = config(prefill_schedule_interval=4, scheduler_cls="my.Scheduler")
    assert not cadence.install(own)  # --scheduler-cls wins
    assert own.scheduler_config.scheduler_cls == "my.Scheduler"

    dp = config(prefill_schedule_interval=4)
    dp.parallel_config.data_parallel_size = 2  # vLLM throttles DP engines itself
    assert not cadence.install(dp)
    assert dp.scheduler_config.scheduler_cls is None


class Engine:
    """vLLM's (synchronous) scheduler with the cadence, stepped by hand: each step's model
    output is one sampled token for every request that finished its prompt."""

    def __init__(self, interval: int) -> None:
        vllm_config = config(
            prefill_schedule_interval=interval, async_scheduling=False, enable_prefix_caching=False
        )
        vllm_config.cache_config.num_gpu_blocks = 1024  # what the core sets after profiling
        spec = FullAttentionSpec(block_size=BLOCK, num_kv_heads=1, head_size=8, dtype=_dtype())
        kv = KVCacheConfig(
            num_blocks=1024,
            kv_cache_tensors=[],
            kv_cache_groups=[KVCacheGroupSpec(["layer"], spec)],
        )
        self.scheduler = cadence.CadencedScheduler(
            vllm_config=vllm_config,
            kv_cache_config=kv,
            structured_output_manager=StructuredOutputManager(vllm_config),
            block_size=BLOCK,
        )
        self.count = 0

    def add(self, prompt: int = 20) -> str:
        self.count += 1
        request_id = f"r{self.count}"
        params = SamplingParams(max_tokens=64, ignore_eos=True)
        params.update_from_generation_config({}, eos_token_id=None)
        request = Request(request_id, list(range(1, prompt + 1)), params, None)
        self.scheduler.add_request(request)
        return request_id

    def step(self) -> set[str]:
        """One engine step; the requests whose prompt tokens it ran."""
        out: SchedulerOutput = self.scheduler.schedule()
        prefilled = {new.req_id for new in out.scheduled_new_reqs}
        ids = list(out.num_scheduled_tokens)
        done = [
            i
            for i in ids
            if self.scheduler.requests[i].num_computed_tokens
            >= self.scheduler.requests[i].num_prompt_tokens
        ]
        self.scheduler.update_from_output(
            out,
            ModelRunnerOutput(
                req_ids=ids,
                req_id_to_index={i: n for n, i in enumerate(ids)},
                sampled_token_ids=[[7] if i in done else [] for i in ids],
            ),
        )
        return prefilled


def _dtype() -> Any:
    import torch

    return torch.float32


@pytest.fixture
def engine() -> Iterator[Engine]:
    yield Engine(interval=4)


def test_an_idle_engine_admits_at_once(engine: Engine) -> None:
    first = engine.add()
    assert engine.step() == {first}  # step 1 is off the cadence: nothing else runs


def test_arrivals_beside_a_running_decode_enter_on_every_fourth_step(engine: Engine) -> None:
    engine.add()
    engine.step()  # step 1: the first prompt (idle)
    admitted: dict[int, set[str]] = {}
    for step in range(2, 14):
        engine.add()  # one arrival per step, as a trickle of frontends sends them
        admitted[step] = engine.step()
    entered = {step for step, ids in admitted.items() if ids}
    assert entered == {4, 8, 12}, admitted
    assert [len(admitted[s]) for s in (4, 8, 12)] == [3, 4, 4]  # each admits all that waited


def test_an_interval_of_one_admits_every_step() -> None:
    engine = Engine(interval=1)
    engine.add()
    engine.step()
    for _ in range(5):
        arrival = engine.add()
        assert engine.step() == {arrival}
