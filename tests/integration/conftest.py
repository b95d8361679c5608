"""The real stack: the launcher serving the embedded SmolLM2 model on vLLM (CPU in CI)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stack import Stack

MODEL = "SmolLM2-135M-Instruct"


@pytest.fixture(scope="session")
def real_stack() -> Iterator[Stack]:
    # Eager mode starts in ~15 s instead of ~90 s with torch.compile, and decodes greedily
    # the same way plain transformers does.
    stack = Stack(
        "--enforce-eager", "--max-model-len", "2048",
        env={"VLLM_CPU_KVCACHE_SPACE": "1"},
    ).start(timeout=600)
    yield stack
    assert stack.stop() == 0, stack.log()
