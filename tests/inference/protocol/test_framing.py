"""The wire format: [4-byte length][1-byte kind][msgpack body], decoded whole or in pieces."""

from __future__ import annotations

import asyncio
import struct

import msgspec
import pytest

from inference.protocol import (
    PROTOCOL_VERSION,
    Cancel,
    CancelReply,
    ChatMessage,
    CountTokens,
    Delta,
    Error,
    ErrorCode,
    Final,
    FinishReason,
    FrameDecoder,
    GenerateRequest,
    Handshake,
    Health,
    HealthReply,
    Hello,
    Kind,
    Query,
    QueryReply,
    Role,
    Sampling,
    Started,
    Stats,
    StatsReply,
    Struct,
    TokenCount,
    TokenLogprob,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    TopLogprob,
    Usage,
    encode,
    read_message,
)
from inference.protocol.messages import MESSAGE_TYPES
from tests.inference.protocol.frames import frame, reader_of

MESSAGES: list[Struct] = [
    Hello(protocol_version=PROTOCOL_VERSION),
    Hello(protocol_version=7, client="other"),
    Handshake(
        protocol_version=PROTOCOL_VERSION,
        model_names=["a", "b"],
        max_model_len=2048,
        engine="vllm 0.32.0 (cpu)",
        tool_call_parser="hermes",
        reasoning_parser="qwen3",
    ),
    GenerateRequest(
        request_id="req-1",
        messages=[
            ChatMessage(role=Role.SYSTEM, content="be brief"),
            ChatMessage(
                role=Role.ASSISTANT,
                reasoning="hmm",
                tool_calls=[ToolCall(id="c1", name="f", arguments='{"x": 1}')],
            ),
            ChatMessage(role=Role.TOOL, content="42", tool_call_id="c1", name="f"),
        ],
        sampling=Sampling(
            max_tokens=5,
            temperature=0.5,
            top_p=0.9,
            top_k=3,
            min_p=0.1,
            seed=9,
            stop=["\n"],
            ignore_eos=True,
            top_logprobs=2,
        ),
        tools=[Tool(name="f", parameters={"type": "object"}, description="d", strict=True)],
        tool_choice=ToolChoice.FUNCTION,
        tool_name="f",
        parallel_tool_calls=False,
        json_schema={"type": "object", "properties": {"a": {"type": "integer"}}},
        priority=-3,
        chat_template_kwargs={"enable_thinking": False},
    ),
    Started(prompt_tokens=10, max_tokens=90),
    Delta(
        text="hi",
        reasoning="r",
        tool_calls=[ToolCallDelta(index=0, id="c", name="f", arguments="{")],
        logprobs=[
            TokenLogprob(
                token="hi",
                logprob=-0.5,
                bytes=[104, 105],
                top_logprobs=[TopLogprob(token="hi", logprob=-0.5, bytes=[1])],
            )
        ],
    ),
    Delta(text="héllo ✓", tokens=3),
    Final(
        finish_reason=FinishReason.LENGTH,
        usage=Usage(prompt_tokens=1, cached_tokens=2, completion_tokens=3, reasoning_tokens=4),
    ),
    Final(finish_reason=FinishReason.ERROR, error="engine broke"),
    Cancel(),
    Cancel(reason="timeout"),
    Cancel(request_id="resp_1", reason="background"),
    CancelReply(request_id="resp_1", cancelled=True),
    Query(request_id="resp_1"),
    QueryReply(request_id="resp_1", running=True, prompt_tokens=4, output_tokens=9),
    Health(),
    HealthReply(healthy=False, detail="dead"),
    CountTokens(
        messages=[ChatMessage(role=Role.USER, content="x")],
        tools=[Tool(name="t")],
        chat_template_kwargs={"k": 1},
    ),
    TokenCount(tokens=3, max_model_len=100),
    Stats(),
    StatsReply(running=2, total_requests=5),
    Error(code=ErrorCode.CONTEXT_LENGTH_EXCEEDED, message="too long", param="input"),
]


def test_every_message_type_is_covered() -> None:
    assert {type(m) for m in MESSAGES} == set(MESSAGE_TYPES.values())


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip_through_decoder(message: Struct) -> None:
    data = encode(message)
    length, kind = struct.unpack_from(">IB", data)
    assert length == len(data) - 4
    assert Kind(kind) in MESSAGE_TYPES and MESSAGE_TYPES[Kind(kind)] is type(message)
    assert FrameDecoder().feed(data) == [message]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
async def test_round_trip_through_read_message(message: Struct) -> None:
    reader = reader_of(encode(message))
    assert await read_message(reader) == message
    assert await read_message(reader) is None


def test_byte_by_byte() -> None:
    data = b"".join(encode(m) for m in MESSAGES)
    decoder = FrameDecoder()
    out: list[Struct] = []
    for i in range(len(data)):
        out += decoder.feed(data[i : i + 1])
    assert out == MESSAGES


def test_frames_split_across_feeds_and_several_in_one() -> None:
    data = b"".join(encode(m) for m in MESSAGES)
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    out: list[Struct] = []
    for cut in range(0, len(data), 37):  # slices that straddle headers and bodies
        out += decoder.feed(data[cut : cut + 37])
    assert out == MESSAGES
    assert decoder.feed(data) == MESSAGES  # every frame in one feed
    head = encode(MESSAGES[3])
    assert decoder.feed(data + head[:3]) == MESSAGES
    assert decoder.feed(head[3:]) == [MESSAGES[3]]


async def test_read_message_across_partial_writes() -> None:
    data = b"".join(encode(m) for m in MESSAGES)
    reader = asyncio.StreamReader()
    out: list[Struct | None] = []

    async def consume() -> None:
        for _ in MESSAGES:
            out.append(await read_message(reader))

    consumer = asyncio.create_task(consume())
    for i in range(0, len(data), 3):
        reader.feed_data(data[i : i + 3])
        await asyncio.sleep(0)
    reader.feed_eof()
    await asyncio.wait_for(consumer, 2)
    assert out == MESSAGES
    assert await read_message(reader) is None


def test_unknown_fields_are_ignored() -> None:
    body = msgspec.msgpack.encode(
        {"protocol_version": 1, "client": "new", "future": {"nested": [1, 2]}, "x": None}
    )
    assert FrameDecoder().feed(frame(Kind.HELLO, body)) == [Hello(protocol_version=1, client="new")]
    body = msgspec.msgpack.encode(
        {"finish_reason": "stop", "usage": {"prompt_tokens": 3, "audio_tokens": 9}, "extra": 1}
    )
    assert FrameDecoder().feed(frame(Kind.FINAL, body)) == [
        Final(finish_reason=FinishReason.STOP, usage=Usage(prompt_tokens=3))
    ]


async def test_unknown_fields_are_ignored_by_read_message() -> None:
    body = msgspec.msgpack.encode({"running": 1, "gpu_cache_usage": 0.5})
    assert await read_message(reader_of(frame(Kind.STATS_REPLY, body))) == StatsReply(running=1)
