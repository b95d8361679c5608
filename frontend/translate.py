"""The only place OpenAI request fields become protocol fields (CreateResponse → GenerateRequest).

Owns what Portico can honour: a field it cannot is refused with a 400 naming it, never
silently dropped. Encrypted reasoning is opened here, by the `unseal` function the route
passes (frontend/sealing.py owns the keys and binds the tenant), so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inference.protocol import (
    ChatMessage,
    GenerateRequest,
    Handshake,
    Role,
    Sampling,
    Tool,
    ToolCall,
    ToolChoice,
)

from . import service_tiers, tool_shapes
from .config import BY_NAME
from .errors import InvalidEncryptedContent, InvalidRequest, Unsupported
from .openai.parse import json_type
from .openai.request import (
    ContentPart,
    CreateResponse,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    MessageItem,
    ReasoningItem,
    ToolChoiceFunction,
)
from .sealing import Unreadable
from .service_tiers import ServiceTier, TierPolicy

LOGPROBS_INCLUDE = "message.output_text.logprobs"
ENCRYPTED_INCLUDE = "reasoning.encrypted_content"
SUPPORTED_INCLUDES = {LOGPROBS_INCLUDE, ENCRYPTED_INCLUDE}
INCLUDABLE = (  # OpenAI's IncludeEnum: anything else is an invalid value, not an unsupported one
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    ENCRYPTED_INCLUDE,
    LOGPROBS_INCLUDE,
)
KEYS_ENV = BY_NAME["REASONING_KEYS"].env
TEXT_PARTS = {"input_text", "output_text", "text", "refusal", "summary_text", "reasoning_text"}

# Opens an input item's encrypted_content for this request's tenant (Sealer.open, bound).
Unseal = Callable[[str], str]


def _unsupported(param: str, what: str) -> Unsupported:
    return Unsupported(f"{what} is not supported by this server.", param=param)


def check_fields(body: CreateResponse, handshake: Handshake, *, sealing: bool = False) -> None:
    """Refuse every field this server cannot honour, naming it. `sealing`: whether this
    server has reasoning keys."""
    if body.background and body.store is False:
        raise InvalidRequest(
            "Background responses are stored: background=true needs store to be true.",
            param="background",
            code="invalid_value",
        )
    if body.conversation is not None:
        raise _unsupported("conversation", "The conversation parameter")
    if body.prompt is not None:
        raise _unsupported("prompt", "Prompt templates")
    if body.truncation == "auto":
        raise _unsupported("truncation", "truncation='auto'")
    if body.max_tool_calls is not None:
        raise _unsupported("max_tool_calls", "max_tool_calls")
    if body.context_management:
        raise _unsupported("context_management", "context_management")
    if body.prompt_cache_retention == "24h":
        raise _unsupported("prompt_cache_retention", "prompt_cache_retention='24h'")
    check_include(body.include or [])
    for index, value in enumerate(body.include or []):
        if value == ENCRYPTED_INCLUDE and not sealing and handshake.reasoning_parser is not None:
            # without a reasoning parser there is nothing to seal: the include is a no-op
            raise Unsupported(
                f"include value '{value}' needs reasoning keys and this server has none: "
                f"set {KEYS_ENV} (the same keys on every worker and replica).",
                param=f"include[{index}]",
            )
    if body.text is not None and body.text.verbosity not in (None, "medium"):
        raise _unsupported("text.verbosity", f"text.verbosity='{body.text.verbosity}'")
    if body.reasoning is not None:
        effort = body.reasoning.effort
        if effort not in (None, "none") and handshake.reasoning_parser is None:
            raise _unsupported(
                "reasoning.effort",
                "reasoning.effort (the sidecar runs no --reasoning-parser)",
            )
        summary = body.reasoning.summary or body.reasoning.generate_summary
        if summary not in (None, "auto"):
            raise _unsupported("reasoning.summary", f"reasoning.summary='{summary}'")


def check_include(values: list[str]) -> None:
    """`include` values (create's body, retrieve's `include[]`): a value outside OpenAI's list
    is invalid, one Portico does not produce is unsupported; both name `include[i]`."""
    for index, value in enumerate(values):
        if value not in INCLUDABLE:
            listed = ", ".join(f"'{v}'" for v in INCLUDABLE[:-1])
            raise InvalidRequest(
                f"Invalid value: '{value}'. Supported values are: {listed} and '{INCLUDABLE[-1]}'.",
                param=f"include[{index}]",
                code="invalid_value",
            )
        if value not in SUPPORTED_INCLUDES:
            raise _unsupported(f"include[{index}]", f"include value '{value}'")


def _text(parts: str | list[ContentPart], param: str) -> str:
    """Text content as one string; a refusal part (an earlier answer echoed back) is the
    text the assistant said."""
    if isinstance(parts, str):
        return parts
    texts = []
    for index, part in enumerate(parts):
        if part.type not in TEXT_PARTS:
            raise _unsupported(f"{param}[{index}]", f"Content of type '{part.type}'")
        field = "refusal" if part.type == "refusal" else "text"
        text = part.text if field == "text" else (part.model_extra or {}).get(field)
        if not isinstance(text, str):
            where = f"{param}[{index}].{field}"
            raise InvalidRequest(
                f"Missing required parameter: '{where}'."
                if text is None
                else f"Invalid type for '{where}': expected a string, "
                f"but got {json_type(text)} instead.",
                param=where,
                code="missing_required_parameter" if text is None else "invalid_type",
            )
        texts.append(text)
    return "\n".join(texts)


def encrypted_reasoning(body: CreateResponse) -> bool:
    """Whether output reasoning items carry `encrypted_content`."""
    return ENCRYPTED_INCLUDE in (body.include or [])


def _reasoning(item: ReasoningItem, param: str, unseal: Unseal | None) -> str | None:
    """An input reasoning item's text: its encrypted_content when present (authoritative:
    it is this server's own, authenticated), else its content parts."""
    if item.encrypted_content is None:
        return "\n".join(p.text or "" for p in item.content or []) or None
    where = f"{param}.encrypted_content"
    if unseal is None:
        raise InvalidEncryptedContent(
            f"{where} cannot be decrypted: this server has no reasoning keys (set {KEYS_ENV}).",
            param=where,
        )
    try:
        return unseal(item.encrypted_content) or None
    except Unreadable as exc:
        raise InvalidEncryptedContent(f"{where} cannot be decrypted: {exc}.", param=where) from None


def _call(item: FunctionCallItem | CustomToolCallItem) -> ToolCall:
    """An earlier call as the model made it: namespaced names joined, custom input wrapped."""
    if isinstance(item, CustomToolCallItem):
        name = tool_shapes.model_name(item.name, item.namespace)
        arguments = tool_shapes.custom_arguments(item.input)
    else:
        namespace = (item.model_extra or {}).get("namespace")
        name = tool_shapes.model_name(item.name, namespace if isinstance(namespace, str) else None)
        arguments = item.arguments
    return ToolCall(id=item.call_id, name=name, arguments=arguments)


def input_messages(body: CreateResponse, unseal: Unseal | None = None) -> list[ChatMessage]:
    """This request's input items as chat messages (without instructions or history).
    `unseal` opens encrypted reasoning; without it (no keys) such an item is a 400."""
    out: list[ChatMessage] = []
    if isinstance(body.input, str):
        out.append(ChatMessage(role=Role.USER, content=body.input))
        return out
    reasoning: str | None = None
    for index, item in enumerate(body.input):
        param = f"input[{index}]"
        if isinstance(item, MessageItem):
            role = Role.SYSTEM if item.role == "developer" else Role(item.role)
            message = ChatMessage(role=role, content=_text(item.content, f"{param}.content"))
            if role == Role.ASSISTANT and reasoning is not None:
                message.reasoning, reasoning = reasoning, None
            out.append(message)
        elif isinstance(item, FunctionCallItem | CustomToolCallItem):
            call = _call(item)
            last = out[-1] if out else None
            if last is not None and last.role == Role.ASSISTANT:
                last.tool_calls.append(call)  # parallel calls, or text then a call
                if reasoning is not None and last.reasoning is None:
                    last.reasoning, reasoning = reasoning, None  # this turn's reasoning
            else:
                message = ChatMessage(role=Role.ASSISTANT, tool_calls=[call], reasoning=reasoning)
                out.append(message)
                reasoning = None
        elif isinstance(item, FunctionCallOutputItem | CustomToolCallOutputItem):
            content = _text(item.output, f"{param}.output")
            out.append(ChatMessage(role=Role.TOOL, content=content, tool_call_id=item.call_id))
        elif isinstance(item, ReasoningItem):
            reasoning = _reasoning(item, param, unseal)
        else:
            raise _unsupported(f"{param}.type", f"Input items of type '{item.type}'")
    return out


def tools(
    body: CreateResponse, handshake: Handshake, hosted: str = tool_shapes.OMIT
) -> tuple[list[Tool], ToolChoice, str | None]:
    """The tools as the model sees them (tool_shapes.py: namespaces, custom and hosted
    tools), the tool choice (auto|none|required|function) and its name."""
    out = tool_shapes.render(body.tools or [], hosted=hosted)
    choice = body.tool_choice if body.tool_choice is not None else "auto"
    if not isinstance(choice, str) and choice.type == "custom" and choice.name:
        choice = ToolChoiceFunction(type="function", name=choice.name)  # its JSON wrapper
    if isinstance(choice, ToolChoiceFunction):
        if choice.name not in {t.name for t in out}:
            raise InvalidRequest(
                f"Tool choice '{choice.name}' is not among the request's tools.",
                param="tool_choice",
            )
        return out, ToolChoice.FUNCTION, choice.name
    if not isinstance(choice, str):
        raise _unsupported("tool_choice", f"tool_choice of type '{choice.type}'")
    if choice == "required" and not out:
        raise InvalidRequest("tool_choice 'required' needs at least one tool.", param="tool_choice")
    if choice == "auto" and out and handshake.tool_call_parser is None:
        raise _unsupported(
            "tools", "tool_choice 'auto' with tools (the sidecar runs no --tool-call-parser)"
        )
    return out, ToolChoice(choice), None


def sampling(body: CreateResponse) -> Sampling:
    logprobs = LOGPROBS_INCLUDE in (body.include or [])
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    return Sampling(
        max_tokens=body.max_output_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        top_k=body.top_k,
        min_p=body.min_p,
        seed=body.seed,
        presence_penalty=body.presence_penalty,
        frequency_penalty=body.frequency_penalty,
        repetition_penalty=body.repetition_penalty,
        stop=stop,
        ignore_eos=bool(body.ignore_eos),
        top_logprobs=(body.top_logprobs or 0) if logprobs else None,
    )


def output_messages(output: list[dict[str, Any]]) -> list[ChatMessage]:
    """A response's output items as the assistant turn a follow-up request continues from."""
    message = ChatMessage(role=Role.ASSISTANT)
    for item in output:
        if item["type"] == "message":
            text = "".join(p.get("text", "") for p in item["content"])
            message.content = (message.content or "") + text
        elif item["type"] == "reasoning":
            message.reasoning = "".join(p["text"] for p in item.get("content") or [])
        elif item["type"] == "function_call":
            name = tool_shapes.model_name(item["name"], item.get("namespace"))
            message.tool_calls.append(
                ToolCall(id=item["call_id"], name=name, arguments=item["arguments"])
            )
        elif item["type"] == "custom_tool_call":
            name = tool_shapes.model_name(item["name"], item.get("namespace"))
            arguments = tool_shapes.custom_arguments(item["input"])
            message.tool_calls.append(ToolCall(id=item["call_id"], name=name, arguments=arguments))
    return [message]


def generate_request(
    body: CreateResponse,
    conversation: list[ChatMessage],
    *,
    request_id: str,
    handshake: Handshake,
    sealing: bool = False,
    hosted_tools: str = tool_shapes.OMIT,
    tier: ServiceTier | None = None,
    trace_id: str | None = None,
) -> GenerateRequest:
    """`conversation` is the history plus input_messages(body); instructions go first.
    `sealing`: whether this server has reasoning keys (for the encrypted-reasoning include);
    `hosted_tools`: the HOSTED_TOOLS policy (tool_shapes.py); `tier`: the service tier the
    request is served at (service_tiers.py; default: the default policy's); `trace_id`: the
    client's request id, for the sidecar's logs."""
    check_fields(body, handshake, sealing=sealing)
    if tier is None:
        tier = service_tiers.resolve(
            body.service_tier, TierPolicy(), scheduling=handshake.priority_scheduling
        )
    tool_list, choice, tool_name = tools(body, handshake, hosted_tools)
    fmt = body.text.format if body.text is not None else None
    kwargs = dict(body.chat_template_kwargs or {})
    if body.reasoning is not None and body.reasoning.effort is not None:
        kwargs.setdefault("reasoning_effort", body.reasoning.effort)
    if fmt is not None and fmt.type == "json_schema" and fmt.schema_ is None:
        raise InvalidRequest("text.format.schema is required for json_schema.", param="text.format")
    system = [ChatMessage(role=Role.SYSTEM, content=body.instructions)] if body.instructions else []
    return GenerateRequest(
        request_id=request_id,
        messages=system + conversation,
        sampling=sampling(body),
        tools=tool_list,
        tool_choice=choice,
        tool_name=tool_name,
        parallel_tool_calls=body.parallel_tool_calls is not False,
        json_schema=fmt.schema_ if fmt is not None and fmt.type == "json_schema" else None,
        json_object=fmt is not None and fmt.type == "json_object",
        priority=tier.engine_priority(body.priority),
        chat_template_kwargs=kwargs,
        grammar=tool_shapes.grammar(body.tools or [], tool_name) if tool_name else None,
        trace_id=trace_id,
    )
