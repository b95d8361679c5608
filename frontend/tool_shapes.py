"""The tool shapes beyond plain functions: namespaces, custom tools and hosted tools.

Owns how each is shown to the model and how the model's calls come back in OpenAI's form:

- a `namespace` tool is rendered as its member tools, each named `<namespace>.<name>` (a dot
  never occurs in an OpenAI tool name, so the split is unambiguous); a call comes back as a
  `function_call` (or `custom_tool_call`) with `name` and `namespace` apart, as OpenAI sends;
- a `custom` tool (free text, or text a lark/regex grammar accepts: Codex's apply_patch) is
  rendered as a function with one string argument, `input`; its grammar is shown to the model
  in the description. The call comes back as a `custom_tool_call` item whose `input` is that
  string. The grammar is not enforced by the engine under tool_choice auto (the call sits in
  free text); a custom tool named by tool_choice constrains the output to its grammar (the
  engine's structured outputs: lark or regex), or to the JSON wrapper when it has none;
- hosted tools (`web_search`, `file_search`, ...) run nowhere in Portico: by the setting
  HOSTED_TOOLS (`--responses-hosted-tools`) they are left out of the prompt and recorded in
  the Response's `omitted_tools`, not in its `tools` ("omit", the default, so a default
  Codex turn succeeds), or refused with a 400 naming them ("refuse").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inference.protocol import Grammar, Tool

from .errors import Unsupported
from .openai.request import CustomTool, FunctionTool, NamespaceTool

OMIT = "omit"
REFUSE = "refuse"
HOSTED_POLICIES = (OMIT, REFUSE)
SEPARATOR = "."
INPUT = "input"  # the one argument a custom tool is rendered with
CUSTOM_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {INPUT: {"type": "string", "description": "The tool's input, as free text."}},
    "required": [INPUT],
    "additionalProperties": False,
}


def check_policy(text: str) -> None:
    """The HOSTED_TOOLS setting's check (config.Setting.check)."""
    if text not in HOSTED_POLICIES:
        raise ValueError("expects one of " + ", ".join(HOSTED_POLICIES))


@dataclass(frozen=True)
class Target:
    """What a tool name the model calls stands for."""

    name: str
    namespace: str | None = None
    custom: bool = False


def model_name(name: str, namespace: str | None) -> str:
    """The name the model sees (and calls) for a tool."""
    return f"{namespace}{SEPARATOR}{name}" if namespace else name


def _custom_description(tool: CustomTool) -> str:
    text = tool.description or ""
    fmt = tool.format
    if fmt is not None and fmt.type == "grammar" and fmt.definition:
        text += (
            f"\n\nPut the whole input in the `{INPUT}` argument; it must follow this "
            f"{fmt.syntax or 'lark'} grammar:\n{fmt.definition}"
        )
    return text.strip()


def _member(tool: FunctionTool | CustomTool, namespace: str | None) -> Tool:
    name = model_name(tool.name, namespace)
    if isinstance(tool, CustomTool):
        return Tool(name=name, parameters=CUSTOM_PARAMETERS, description=_custom_description(tool))
    return Tool(
        name=name,
        parameters=tool.parameters or {"type": "object", "properties": {}},
        description=tool.description,
        strict=bool(tool.strict),
    )


def render(tools: Sequence[Any], *, hosted: str = OMIT) -> list[Tool]:
    """The request's tools as the functions the model sees; hosted ones are left out under
    "omit" and refused (400, naming the tool) under "refuse"."""
    out: list[Tool] = []
    for index, tool in enumerate(tools):
        if isinstance(tool, FunctionTool | CustomTool):
            out.append(_member(tool, None))
        elif isinstance(tool, NamespaceTool):
            out.extend(_member(member, tool.name) for member in tool.tools)
        elif hosted == REFUSE:
            raise Unsupported(
                f"Tools of type '{tool.type}' are not supported by this server (hosted tools "
                "are refused by its --responses-hosted-tools setting).",
                param=f"tools[{index}].type",
            )
    return out


def hosted(tool: Any) -> bool:
    """Whether a request tool is a hosted one (web_search, file_search, ...)."""
    return not isinstance(tool, FunctionTool | CustomTool | NamespaceTool)


def omitted(tools: Sequence[Any]) -> list[str]:
    """The types of the hosted tools left out of the prompt (under "omit"): the Response
    lists them in `omitted_tools`, and its `tools` holds only what the model was shown."""
    return [tool.type for tool in tools if hosted(tool)]


def targets(echoed: Sequence[dict[str, Any]]) -> dict[str, Target]:
    """The model-facing names of a Response's echoed `tools`, for the calls that come back."""
    out: dict[str, Target] = {}
    for tool in echoed:
        members, namespace = [tool], None
        if tool.get("type") == "namespace":
            members, namespace = tool.get("tools") or [], tool.get("name")
        for member in members:
            if member.get("type") in ("function", "custom"):
                target = Target(member["name"], namespace, member["type"] == "custom")
                out[model_name(member["name"], namespace)] = target
    return out


def grammar(tools: Sequence[Any], name: str) -> Grammar | None:
    """The grammar of the custom tool the model sees as `name`, if it has one: a tool_choice
    naming it constrains the whole output to that grammar (the engine's structured outputs),
    and the output is then the input itself, not the JSON wrapper."""
    for tool in tools:
        members, namespace = [tool], None
        if isinstance(tool, NamespaceTool):
            members, namespace = list(tool.tools), tool.name
        for member in members:
            if not isinstance(member, CustomTool) or model_name(member.name, namespace) != name:
                continue
            fmt = member.format
            if fmt is not None and fmt.type == "grammar" and fmt.definition:
                return Grammar(syntax=fmt.syntax or "lark", definition=fmt.definition)
    return None


def custom_input(arguments: str) -> str:
    """A custom tool call's `input`, out of the arguments the model gave its function."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(value, dict) and isinstance(value.get(INPUT), str):
        return str(value[INPUT])
    return arguments


def custom_arguments(text: str) -> str:
    """A custom tool call's `input` as the function arguments the model gave (history)."""
    return json.dumps({INPUT: text})
