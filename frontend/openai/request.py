"""The body of `POST /v1/responses` (OpenAI's CreateResponse), plus vLLM's sampling extensions,
and of `POST /v1/responses/input_tokens` (TokenCountsBody).

Owns the request's shape and OpenAI's limits; plain data, no behaviour. Unknown fields are
rejected (as OpenAI does); extension fields are rejected in compatibility mode by the route.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .client_fields import ClientFields


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Loose(BaseModel):
    """Items clients echo back from earlier responses carry fields we don't need."""

    model_config = ConfigDict(extra="allow")


# --- input items -------------------------------------------------------------------------


class ContentPart(Loose):
    type: str
    text: str | None = None


class MessageItem(Loose):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ContentPart]
    id: str | None = None
    status: str | None = None


class FunctionCallItem(Loose):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(Loose):
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[ContentPart]
    id: str | None = None
    status: str | None = None


class CustomToolCallItem(Loose):
    type: Literal["custom_tool_call"]
    call_id: str
    name: str
    input: str
    namespace: str | None = None
    id: str | None = None
    status: str | None = None


class CustomToolCallOutputItem(Loose):
    type: Literal["custom_tool_call_output"]
    call_id: str
    output: str | list[ContentPart]
    id: str | None = None
    status: str | None = None


class ReasoningItem(Loose):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[ContentPart] = []
    content: list[ContentPart] | None = None
    encrypted_content: str | None = None


class OtherItem(Loose):
    """Any other item type (item_reference, file search calls, ...): refused by translate."""

    type: str


def _tag(known: tuple[str, ...], default: str) -> Any:
    """A discriminator on `type`: "type=<the type>" when known, else "type=other".

    So a wrong field is named (`input[0].role`), not every branch's complaint. A value that
    is not an object is an `invalid_type` error (parse.py words it). The tags hold "=" so
    that no JSON key can be mistaken for one in an error's location.
    """

    def pick(value: Any) -> str | None:
        if isinstance(value, dict):
            kind = value.get("type", default)
        elif isinstance(value, BaseModel):
            kind = getattr(value, "type", None)
        else:
            return None
        return f"type={kind}" if kind in known else "type=other"

    return Discriminator(pick, custom_error_type="invalid_type", custom_error_message="an object")


InputItem = Annotated[
    Annotated[MessageItem, Tag("type=message")]
    | Annotated[FunctionCallItem, Tag("type=function_call")]
    | Annotated[FunctionCallOutputItem, Tag("type=function_call_output")]
    | Annotated[ReasoningItem, Tag("type=reasoning")]
    | Annotated[CustomToolCallItem, Tag("type=custom_tool_call")]
    | Annotated[CustomToolCallOutputItem, Tag("type=custom_tool_call_output")]
    | Annotated[OtherItem, Tag("type=other")],
    _tag(
        (
            "message",
            "function_call",
            "function_call_output",
            "reasoning",
            "custom_tool_call",
            "custom_tool_call_output",
        ),
        "message",
    ),
]


# --- tools and formats ------------------------------------------------------------------


class FunctionTool(Wire):
    type: Literal["function"]
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class CustomToolFormat(Wire):
    """A custom tool's input: free text, or text that a lark or regex grammar accepts."""

    type: Literal["text", "grammar"]
    syntax: Literal["lark", "regex"] | None = None
    definition: str | None = None


class CustomTool(Wire):
    """A tool whose input is free text (Codex's apply_patch), not JSON arguments."""

    type: Literal["custom"]
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    format: CustomToolFormat | None = None


NamespaceMember = Annotated[
    Annotated[FunctionTool, Tag("type=function")] | Annotated[CustomTool, Tag("type=custom")],
    _tag(("function", "custom"), "function"),
]


class NamespaceTool(Wire):
    """A named group of function and custom tools; calls name the namespace."""

    type: Literal["namespace"]
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    tools: Annotated[list[NamespaceMember], Field(min_length=1)]


class OtherTool(Loose):
    """Hosted tools (web_search, file_search, ...): handled by frontend/tool_shapes.py."""

    type: str


Tool = Annotated[
    Annotated[FunctionTool, Tag("type=function")]
    | Annotated[CustomTool, Tag("type=custom")]
    | Annotated[NamespaceTool, Tag("type=namespace")]
    | Annotated[OtherTool, Tag("type=other")],
    _tag(("function", "custom", "namespace"), "function"),
]


class ToolChoiceFunction(Wire):
    type: Literal["function"]
    name: str


class ToolChoiceOther(Loose):
    """Other tool choices: {"type": "custom", "name"} is honoured by tool_shapes.py; hosted
    tools, allowed_tools, ... are refused by translate."""

    type: str
    name: str | None = None


def _pick_choice(value: Any) -> str | None:
    if isinstance(value, str):
        return "mode"
    if isinstance(value, dict):
        return "type=function" if value.get("type") == "function" else "type=other"
    if isinstance(value, ToolChoiceFunction):
        return "type=function"
    if isinstance(value, ToolChoiceOther):
        return "type=other"
    return None


# "none" | "auto" | "required", or an object: {"type": "function", "name": ...} or another
# type (hosted tools, allowed_tools, ...: refused by translate).
ToolChoiceParam = Annotated[
    Annotated[Literal["none", "auto", "required"], Tag("mode")]
    | Annotated[ToolChoiceFunction, Tag("type=function")]
    | Annotated[ToolChoiceOther, Tag("type=other")],
    Discriminator(
        _pick_choice, custom_error_type="invalid_type", custom_error_message="a string or an object"
    ),
]


class TextFormat(Wire):
    type: Literal["text", "json_schema", "json_object"]
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")] | None = (
        Field(default=None, validate_default=True)
    )
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None

    @field_validator("name")
    @classmethod
    def _json_schema_has_a_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        # OpenAI requires it, and the Response echoes the format: its schema requires it too.
        if value is None and info.data.get("type") == "json_schema":
            raise PydanticCustomError("missing", "Field required")
        return value


class TextConfig(Wire):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class Reasoning(Wire):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class StreamOptions(Wire):
    include_obfuscation: bool | None = None


# --- the request -------------------------------------------------------------------------


class CreateResponse(ClientFields, Wire):
    """OpenAI's fields, plus the ones real clients send that the spec lags on (ClientFields)."""

    model: str
    input: str | list[InputItem] = ""
    instructions: str | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    max_output_tokens: Annotated[int, Field(ge=1)] | None = None
    max_tool_calls: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoiceParam | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: Reasoning | None = None
    include: list[str] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = True
    background: bool | None = False
    previous_response_id: str | None = None
    conversation: str | dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "in-memory", "24h"] | None = None
    safety_identifier: Annotated[str, Field(max_length=64)] | None = None
    service_tier: (
        Literal["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"] | None
    ) = None
    truncation: Literal["auto", "disabled"] | None = None
    user: str | None = None
    context_management: list[dict[str, Any]] | None = None
    # vLLM sampling extensions (native mode only)
    top_k: int | None = None
    min_p: Annotated[float, Field(ge=0, le=1)] | None = None
    repetition_penalty: Annotated[float, Field(gt=0, le=2)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    ignore_eos: bool | None = None
    priority: int | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    request_id: str | None = None  # must equal X-Request-Id when both are given

    @field_validator("metadata")
    @classmethod
    def _metadata_limits(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        if len(value) > 16:
            raise ValueError("metadata may hold at most 16 key-value pairs")
        for key, item in value.items():
            if len(key) > 64:
                raise ValueError(f"metadata key {key[:70]!r} is longer than 64 characters")
            if len(item) > 512:
                raise ValueError(f"metadata value for {key!r} is longer than 512 characters")
        return value


class InputTokensRequest(Wire):
    """The body of `POST /v1/responses/input_tokens` (OpenAI's TokenCountsBody): what a
    create request would put in the prompt. `model` defaults to the sidecar's first."""

    model: str | None = None
    input: str | list[InputItem] | None = None
    instructions: str | None = None
    previous_response_id: str | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoiceParam | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: Reasoning | None = None
    truncation: Literal["auto", "disabled"] | None = None
    conversation: str | dict[str, Any] | None = None
    personality: str | None = None
