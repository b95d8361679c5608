"""The sidecar's own vLLM environment defaults (`inference.__main__.engine_env_defaults`)."""

from __future__ import annotations

from pathlib import Path

from inference.__main__ import engine_env_defaults


def test_a_local_folder_is_offline_and_cpu_kv_cache_is_bounded(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    engine_env_defaults(str(tmp_path), env)
    assert env == {"VLLM_CPU_KVCACHE_SPACE": "2", "HF_HUB_OFFLINE": "1"}


def test_a_hub_id_may_download() -> None:
    env: dict[str, str] = {}
    engine_env_defaults("Qwen/Qwen3-8B", env)
    assert env == {"VLLM_CPU_KVCACHE_SPACE": "2"}


def test_the_operator_wins(tmp_path: Path) -> None:
    env = {"VLLM_CPU_KVCACHE_SPACE": "40", "HF_HUB_OFFLINE": "0"}
    engine_env_defaults(str(tmp_path), env)
    assert env == {"VLLM_CPU_KVCACHE_SPACE": "40", "HF_HUB_OFFLINE": "0"}
