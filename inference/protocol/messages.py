"""The messages of the sidecar protocol: plain msgspec structs, one per message kind.

Owns the shapes that cross the Unix socket between the frontend and the inference sidecar.
Imports only the standard library and msgspec (the frontend imports this package).
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from .errors import ErrorCode

PROTOCOL_VERSION = 2  # 2: typed enums, Delta.tokens, Final.error, cancel and query by request id


class Kind(enum.IntEnum):
    """The one-byte message kind that heads every frame."""

    HELLO = 0x01  # client → sidecar: first frame on every connection
    HANDSHAKE = 0x02  # sidecar → client: the answer to HELLO
    GENERATE = 0x10  # client → sidecar: start one generation on this connection
    STARTED = 0x14  # sidecar → client: the engine accepted the request (validation passed)
    DELTA = 0x11  # sidecar → client: new output since the last delta
    FINAL = 0x12  # sidecar → client: the generation ended (finish reason, usage)
    CANCEL = 0x13  # client → sidecar: abort this connection's generation, or one by request id
    CANCEL_REPLY = 0x15  # sidecar → client: the answer to a CANCEL by request id
    QUERY = 0x16  # client → sidecar: is the generation with this request id running?
    QUERY_REPLY = 0x17
    HEALTH = 0x20  # client → sidecar: is the engine alive?
    HEALTH_REPLY = 0x21
    COUNT_TOKENS = 0x30  # client → sidecar: how many prompt tokens would these messages take?
    TOKEN_COUNT = 0x31
    STATS = 0x40  # client → sidecar: engine load
    STATS_REPLY = 0x41
    ERROR = 0x7F  # sidecar → client: a request failed; the connection stays usable


class Struct(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    """Base of every message: unknown fields are ignored so minor additions stay compatible."""


# --- enums (encoded as their string values) -----------------------------------------------


class Role(enum.StrEnum):
    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ToolChoice(enum.StrEnum):
    AUTO = "auto"  # the model decides; a tool-call parser finds calls in its text
    NONE = "none"  # tools are left out of the prompt
    REQUIRED = "required"  # at least one call, enforced by structured outputs
    FUNCTION = "function"  # exactly one call of GenerateRequest.tool_name


class FinishReason(enum.StrEnum):
    """Why a generation ended; every engine outcome maps to exactly one of these."""

    STOP = "stop"  # end of turn or a stop string
    LENGTH = "length"  # the output budget (max_tokens or the context) ran out
    TOOL_CALLS = "tool_calls"  # stopped after emitting tool calls
    ABORT = "abort"  # cancelled (CANCEL, by request id, or a drain timeout)
    REPETITION = "repetition"  # the engine stopped a repeating token pattern
    ERROR = "error"  # the engine failed this request (Final.error says why)


# --- handshake ---------------------------------------------------------------------------


class Hello(Struct):
    protocol_version: int  # required: a default would be omitted on the wire and assumed
    client: str = "portico-frontend"
    # admission control: generations this client lets wait beyond the engine's capacity
    # (Handshake.max_num_seqs); 0: the sidecar's default (twice the capacity); None: no
    # bound (a client from before admission control). A GENERATE on this connection beyond
    # capacity + this bound is refused with ERROR queue_full.
    max_queued_requests: int | None = None


class Handshake(Struct):
    protocol_version: int
    model_names: list[str]
    max_model_len: int
    engine: str = "vllm"  # e.g. "vllm 0.32.0 (cpu)"
    tool_call_parser: str | None = None
    reasoning_parser: str | None = None
    # the engine schedules by priority (vLLM's --scheduling-policy priority); without it a
    # non-zero GenerateRequest.priority is refused
    priority_scheduling: bool = False
    max_num_seqs: int = 0  # generations the engine runs at once (vLLM's); 0: not reported
    # the sidecar's shards: processes that each own a socket and an engine client on one
    # engine (protocol/shards.py); the shard answering is `shard`
    shards: int = 1
    shard: int = 0


# --- generation --------------------------------------------------------------------------


class ToolCall(Struct):
    id: str
    name: str
    arguments: str  # a JSON document, as text


class ChatMessage(Struct):
    role: Role
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = []
    tool_call_id: str | None = None  # for role "tool"
    name: str | None = None


class Tool(Struct):
    name: str
    parameters: dict[str, Any] = {}
    description: str | None = None
    strict: bool = False


class Sampling(Struct):
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    stop: list[str] = []
    ignore_eos: bool = False
    top_logprobs: int | None = None  # None: no logprobs; 0..20: sampled token plus N alternatives


class Grammar(Struct):
    """Text a grammar accepts (a custom tool's input format)."""

    syntax: str  # "lark" or "regex"
    definition: str


class GenerateRequest(Struct):
    request_id: str
    messages: list[ChatMessage]
    sampling: Sampling = msgspec.field(default_factory=Sampling)
    tools: list[Tool] = []
    tool_choice: ToolChoice = ToolChoice.AUTO  # FUNCTION: tool_name is set
    tool_name: str | None = None
    parallel_tool_calls: bool = True
    json_schema: dict[str, Any] | None = None  # structured output: the text follows this schema
    json_object: bool = False  # structured output: the text is some JSON object
    priority: int = 0
    chat_template_kwargs: dict[str, Any] = {}
    # tool_choice FUNCTION of a custom tool with a grammar: the output is the tool's input,
    # constrained by this grammar (instead of the tool's JSON parameters)
    grammar: Grammar | None = None
    # the client's request id (the frontend's X-Request-Id), for the sidecar's log lines
    trace_id: str | None = None


class Started(Struct):
    prompt_tokens: int
    max_tokens: int  # the output budget left after the prompt


class TopLogprob(Struct):
    token: str
    logprob: float
    bytes: list[int] = []


class TokenLogprob(Struct):
    token: str
    logprob: float
    bytes: list[int] = []
    top_logprobs: list[TopLogprob] = []


class ToolCallDelta(Struct):
    index: int
    id: str | None = None  # set on the first delta of a call
    name: str | None = None  # set on the first delta of a call
    arguments: str = ""


class Delta(Struct):
    """New output since the previous delta; may cover several engine tokens."""

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallDelta] = []
    logprobs: list[TokenLogprob] = []  # for the tokens of `text`, when requested
    tokens: int = 0  # engine tokens this delta covers (reasoning and markup included)


class Usage(Struct):
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0


class Final(Struct):
    finish_reason: FinishReason
    usage: Usage = msgspec.field(default_factory=Usage)
    error: str | None = None  # what went wrong, with finish_reason ERROR


class Cancel(Struct):
    """Without request_id: abort this connection's generation (answered by FINAL abort there).
    With it, on any connection: abort that generation (answered by CANCEL_REPLY here; the
    generation's own connection gets FINAL abort)."""

    request_id: str | None = None
    reason: str = "client"


class CancelReply(Struct):
    request_id: str
    cancelled: bool  # false: no generation with that id runs on this sidecar


class Query(Struct):
    request_id: str


class QueryReply(Struct):
    request_id: str
    running: bool
    prompt_tokens: int = 0
    output_tokens: int = 0  # engine tokens generated so far


# --- control -----------------------------------------------------------------------------


class Health(Struct):
    pass


class HealthReply(Struct):
    healthy: bool
    detail: str = ""


class CountTokens(Struct):
    messages: list[ChatMessage]
    tools: list[Tool] = []
    chat_template_kwargs: dict[str, Any] = {}


class TokenCount(Struct):
    tokens: int
    max_model_len: int


class Stats(Struct):
    pass


class StatsReply(Struct):
    running: int  # generations in the engine now
    total_requests: int = 0  # generations started since the sidecar started
    # The engine's own scheduler figures (engine_figures true once the engine reported them;
    # counters count since the sidecar started):
    engine_figures: bool = False
    engine_running: int = 0  # requests in the engine's running batch
    engine_waiting: int = 0  # requests waiting in the engine's queue
    kv_cache_usage: float = 0.0  # fraction of the KV cache in use, 0 to 1
    prefix_cache_queries: int = 0  # prompt tokens looked up in the prefix cache
    prefix_cache_hits: int = 0  # of those, tokens found there
    preemptions: int = 0  # requests the scheduler preempted
    # when the engine's figures were last recorded (time.monotonic(): one clock for the
    # host's processes, so shards compare); 0: never
    figures_at: float = 0.0
    # engine steps since the sidecar started (each step's figures reach one shard: shards'
    # counts add up)
    engine_steps: int = 0
    # engine steps that ran prompt tokens (prefill) or only generation (decode); counted
    # where vLLM's --enable-logging-iteration-details is on (0 otherwise; shards add up)
    engine_prefill_steps: int = 0
    engine_decode_steps: int = 0


class Error(Struct):
    code: ErrorCode
    message: str
    param: str | None = None


MESSAGE_TYPES: dict[Kind, type[Struct]] = {
    Kind.HELLO: Hello,
    Kind.HANDSHAKE: Handshake,
    Kind.GENERATE: GenerateRequest,
    Kind.STARTED: Started,
    Kind.DELTA: Delta,
    Kind.FINAL: Final,
    Kind.CANCEL: Cancel,
    Kind.CANCEL_REPLY: CancelReply,
    Kind.QUERY: Query,
    Kind.QUERY_REPLY: QueryReply,
    Kind.HEALTH: Health,
    Kind.HEALTH_REPLY: HealthReply,
    Kind.COUNT_TOKENS: CountTokens,
    Kind.TOKEN_COUNT: TokenCount,
    Kind.STATS: Stats,
    Kind.STATS_REPLY: StatsReply,
    Kind.ERROR: Error,
}
KIND_OF: dict[type[Struct], Kind] = {cls: kind for kind, cls in MESSAGE_TYPES.items()}
