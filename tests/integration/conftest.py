"""The real stack: the launcher serving a model on vLLM (the embedded SmolLM2 on CPU in CI).

On another machine (the GPU recipe in bench/device/), PORTICO_TEST_MODEL and
PORTICO_TEST_MODEL_NAME name another model folder, and PORTICO_TEST_ENGINE_ARGS replaces the
CPU engine flags. Assertions about answer quality only hold for the embedded model.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator

import pytest

from tests.stack import Stack

OTHER_MODEL = os.environ.get("PORTICO_TEST_MODEL")
MODEL = os.environ.get("PORTICO_TEST_MODEL_NAME", "SmolLM2-135M-Instruct")
# Eager mode starts in ~15 s instead of ~90 s with torch.compile on the CPU. 4096 tokens hold
# a small-context Codex turn (test_codex.py); the 1 GiB KV cache below holds that.
ENGINE_ARGS = shlex.split(
    os.environ.get("PORTICO_TEST_ENGINE_ARGS", "--enforce-eager --max-model-len 4096")
)
embedded_only = pytest.mark.skipif(
    OTHER_MODEL is not None, reason="asserts what the embedded instruct model answers"
)

# Constrained JSON is valid by construction, but a random-weight model (the GPU runs) can
# ramble inside a free string or whitespace until max_output_tokens cuts it: these tests
# need a model that finishes its JSON.
finishing_model = pytest.mark.skipif(
    OTHER_MODEL is not None, reason="needs a trained model that closes its JSON"
)


@pytest.fixture(scope="session")
def real_stack() -> Iterator[Stack]:
    model = (
        ["--model", OTHER_MODEL, "--served-model-name", MODEL, "--tool-call-parser", "hermes"]
        if OTHER_MODEL
        else []
    )
    stack = Stack(*model, *ENGINE_ARGS, env={"VLLM_CPU_KVCACHE_SPACE": "1"}).start(timeout=600)
    yield stack
    assert stack.stop() == 0, stack.log()
    assert "Traceback" not in stack.log(), stack.log()  # a clean shutdown prints none
