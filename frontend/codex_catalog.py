"""Codex CLI's model catalog for the models the sidecar serves (`GET /v1/codex/models`).

Owns the shape Codex reads from a custom provider's `model_catalog_url`: `{"models":
[ModelInfo, ...]}`, one entry a served model name, built from the sidecar's handshake so that
Codex knows the real context window instead of printing `Model metadata for "<model>" not
found. Defaulting to fallback metadata`.

Codex 0.171.0 requests exactly the configured URL with `?client_version=0.171.0` and decodes
every entry strictly: the fields it requires are slug, display_name, supported_reasoning_levels,
shell_type, visibility, supported_in_api, priority, base_instructions (or model_messages),
support_verbosity, truncation_policy and experimental_supported_tools (found by removing
each from a working entry). An entry Codex cannot decode makes it drop
the whole catalog and fall back, so the fields here are the ones that version checks.

What each field says, from the handshake:
* context_window: `max_model_len` (Codex keeps 95% of it for input);
* shell_type: Codex's `exec_command` tool ("unified_exec") when a tool-call parser runs, else
  "disabled" (without a parser Portico refuses tools under `tool_choice: "auto"`);
* supported_reasoning_levels / default_reasoning_level / supports_reasoning_summaries: low,
  medium and high (default medium) when a reasoning parser runs, else none (Portico refuses
  `reasoning.effort` without one, and Codex sends none for a model without levels);
* base_instructions: INSTRUCTIONS, a short paragraph of Portico's own. Codex sends the
  catalog's instructions instead of its built-in ones (about 21 KB); a `model_instructions_file`
  in Codex's config still takes precedence;
* truncation_policy: tool output kept to a quarter of the context (at most 10 000 tokens);
* input_modalities: text only (Portico takes no image input); no verbosity, no apply_patch
  tool type, no hosted search.
"""

from __future__ import annotations

from typing import Any

from inference.protocol import Handshake

INSTRUCTIONS = (
    "You are a coding agent working in the user's terminal through Codex CLI. Help with the "
    "user's request directly and concisely. When you need to look at or change files, or to "
    "run a program, call the exec_command tool with a shell command and read its output "
    "before you continue; never invent a command's output. When the work is done, answer in "
    "plain text: say what you did and what you found."
)
REASONING_LEVELS: tuple[tuple[str, str], ...] = (
    ("low", "Shorter reasoning, faster answers"),
    ("medium", "The model's default reasoning"),
    ("high", "Longer reasoning for harder problems"),
)
MAX_TOOL_OUTPUT_TOKENS = 10_000  # Codex's own default for its models


def model_info(name: str, handshake: Handshake, priority: int = 0) -> dict[str, Any]:
    """One Codex ModelInfo for a served model name."""
    reasoning = handshake.reasoning_parser is not None
    info: dict[str, Any] = {
        "slug": name,
        "display_name": name,
        "description": f"{name} served by Portico ({handshake.engine})",
        "supported_reasoning_levels": [
            {"effort": effort, "description": text} for effort, text in REASONING_LEVELS
        ]
        if reasoning
        else [],
        "shell_type": "unified_exec" if handshake.tool_call_parser else "disabled",
        "visibility": "list",
        "supported_in_api": True,
        "priority": priority,
        "upgrade": None,
        "base_instructions": INSTRUCTIONS,
        "supports_reasoning_summaries": reasoning,
        "support_verbosity": False,
        "default_verbosity": None,
        "apply_patch_tool_type": None,
        "truncation_policy": {
            "mode": "tokens",
            "limit": min(MAX_TOOL_OUTPUT_TOKENS, max(1, handshake.max_model_len // 4)),
        },
        "supports_parallel_tool_calls": False,
        "context_window": handshake.max_model_len,
        "experimental_supported_tools": [],
        "input_modalities": ["text"],
        "supports_search_tool": False,
    }
    if reasoning:
        info["default_reasoning_level"] = "medium"
    return info


def catalog(names: list[str], handshake: Handshake) -> dict[str, Any]:
    """The whole catalog: every served name, in the order `GET /v1/models` lists them."""
    return {"models": [model_info(name, handshake, i) for i, name in enumerate(names)]}
