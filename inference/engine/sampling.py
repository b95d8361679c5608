"""Sampling: protocol Sampling and output constraints as vLLM SamplingParams.

Owns the structured-output schemas: the response format's schema, and the schemas that
force tool calls for tool_choice "required" and a named function (as vLLM's chat server
builds them), so the arguments always satisfy the tool's parameters; a named custom tool
with a grammar gets that grammar (lark or regex) instead.
"""

from __future__ import annotations

from typing import Any

from inference.protocol import GenerateRequest, Tool, ToolChoice

from .vllm_api import RequestOutputKind, SamplingParams, StructuredOutputsParams

EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def required_tools_schema(tools: list[Tool], parallel: bool) -> dict[str, Any]:
    """A JSON array of {name, parameters} calls, each matching one tool."""
    defs: dict[str, Any] = {}
    variants = []
    for tool in tools:
        params = dict(tool.parameters or EMPTY_OBJECT)
        defs.update(params.pop("$defs", {}))
        variants.append(
            {
                "properties": {
                    "name": {"type": "string", "enum": [tool.name]},
                    "parameters": params,
                },
                "required": ["name", "parameters"],
            }
        )
    schema: dict[str, Any] = {
        "type": "array",
        "minItems": 1,
        "items": {"type": "object", "anyOf": variants},
    }
    if not parallel:
        schema["maxItems"] = 1
    if defs:
        schema["$defs"] = defs
    return schema


def structured(request: GenerateRequest) -> StructuredOutputsParams | None:
    # Tool arguments are compact JSON: no free whitespace for a model to ramble in.
    if request.tool_choice == ToolChoice.FUNCTION and request.grammar is not None:
        if request.grammar.syntax == "regex":
            return StructuredOutputsParams(regex=request.grammar.definition)
        return StructuredOutputsParams(grammar=request.grammar.definition)  # lark
    if request.tool_choice == ToolChoice.FUNCTION:
        tool = next(t for t in request.tools if t.name == request.tool_name)
        return StructuredOutputsParams(
            json=tool.parameters or EMPTY_OBJECT, disable_any_whitespace=True
        )
    if request.tool_choice == ToolChoice.REQUIRED:
        return StructuredOutputsParams(
            json=required_tools_schema(request.tools, request.parallel_tool_calls),
            disable_any_whitespace=True,
        )
    if request.json_schema is not None:
        return StructuredOutputsParams(json=request.json_schema)
    if request.json_object:
        return StructuredOutputsParams(json_object=True)
    return None


def sampling_params(request: GenerateRequest, max_tokens: int) -> SamplingParams:
    s = request.sampling
    kwargs: dict[str, Any] = {
        "max_tokens": max_tokens,
        "output_kind": RequestOutputKind.DELTA,
        "stop": s.stop or None,
        "ignore_eos": s.ignore_eos,
        "seed": s.seed,
        "logprobs": s.top_logprobs,
        "structured_outputs": structured(request),
    }
    optional = {
        "temperature": s.temperature,
        "top_p": s.top_p,
        "top_k": s.top_k,
        "min_p": s.min_p,
        "presence_penalty": s.presence_penalty,
        "frequency_penalty": s.frequency_penalty,
        "repetition_penalty": s.repetition_penalty,
    }
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    return SamplingParams(**kwargs)
