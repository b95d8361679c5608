"""ResponseRun with the scripted client: every way a generation can end gives exactly one
terminal event, the right final Response, and the right JSON answer (a Response or a raise).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from frontend import translate
from frontend.client.errors import SidecarUnavailable
from frontend.errors import APIError, ServerError, ServiceUnavailable
from frontend.openai.request import CreateResponse
from frontend.openai.response import skeleton
from frontend.run import LOST, UNEXPECTED, ResponseRun, RunObserver, timeout_message
from frontend.streaming.assembler import ResponseAssembler
from frontend.streaming.events import Event
from inference.protocol import Delta, ErrorCode, Final, FinishReason, RequestError
from tests import spec
from tests.frontend.scripted import (
    MODEL,
    Hang,
    Pause,
    Script,
    ScriptedClient,
    ScriptedGeneration,
    reply,
    tool_call,
    usage,
)

TERMINAL = {"response.completed", "response.incomplete", "response.failed"}
TIMEOUT = 0.05


class Recorder(RunObserver):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (hook, the response status then)

    def first_token(self, run: ResponseRun) -> None:
        self.calls.append(("first_token", run.response["status"]))

    async def finished(self, run: ResponseRun) -> None:
        self.calls.append(("finished", run.response["status"]))


class Broken(RunObserver):
    def first_token(self, run: ResponseRun) -> None:
        raise RuntimeError("observer bug in first_token")

    async def finished(self, run: ResponseRun) -> None:
        raise RuntimeError("observer bug in finished")


async def started(
    script: Script, *, timeout: float = 0.0, observers: Sequence[RunObserver] = ()
) -> ResponseRun:
    client = ScriptedClient([script])
    body = CreateResponse.model_validate({"model": MODEL, "input": "hi"})
    assert client.handshake is not None
    request = translate.generate_request(
        body, translate.input_messages(body), request_id="resp_run", handshake=client.handshake
    )
    assembler = ResponseAssembler(skeleton(body, response_id="resp_run", model=MODEL))
    run = ResponseRun(client, request, assembler, observers=observers, timeout=timeout)
    await run.start()
    return run


def generation(run: ResponseRun) -> ScriptedGeneration:
    assert isinstance(run.generation, ScriptedGeneration)
    return run.generation


async def drain(run: ResponseRun) -> list[Event]:
    """Every event of the run, each one and the whole sequence checked against the specs."""
    events: list[Event] = []
    async for batch in run.events():
        for event in batch:
            spec.validate_stream_event(event)
        events += batch
    spec.validate_event_sequence(events)
    assert sum(e["type"] in TERMINAL for e in events) == 1
    assert events[-1]["type"] in TERMINAL
    assert events[-1]["response"] == run.response
    spec.validate_response(run.response)
    assert run.done
    return events


async def raised(run: ResponseRun) -> APIError:
    with pytest.raises(APIError) as caught:
        await run.result()
    spec.validate_error(caught.value.body())
    spec.validate_response(run.response)
    return caught.value


# --- normal finishes ---------------------------------------------------------------------


async def test_a_normal_finish_completes() -> None:
    recorder = Recorder()
    run = await started(reply("Hello", " world"), observers=[recorder])
    events = await drain(run)
    assert events[-1]["type"] == "response.completed"
    assert run.response["output"][0]["content"][0]["text"] == "Hello world"
    assert run.retryable is None
    assert recorder.calls == [("first_token", "in_progress"), ("finished", "completed")]
    g = generation(run)
    assert (g.closes, g.aborts) == (1, 0)  # released, not aborted


async def test_result_returns_the_final_response() -> None:
    run = await started(tool_call("f", '{"a":', " 1}"))
    response = await run.result()
    spec.validate_response(response)
    assert response is run.response
    assert response["status"] == "completed"
    assert response["output"][0]["arguments"] == '{"a": 1}'


async def test_length_is_an_incomplete_response_not_an_error() -> None:
    run = await started(reply("cut", finish=FinishReason.LENGTH))
    response = await run.result()
    assert response["status"] == "incomplete"
    run = await started(reply("cut", finish=FinishReason.LENGTH))
    assert (await drain(run))[-1]["type"] == "response.incomplete"


async def test_repetition_is_a_failed_response_not_an_error() -> None:
    run = await started(reply("a a a", finish=FinishReason.REPETITION))
    response = await run.result()
    assert response["status"] == "failed"
    assert response["error"]["code"] == "server_error"


async def test_a_sidecar_abort_is_a_cancelled_response() -> None:
    run = await started(reply("par", finish=FinishReason.ABORT))
    events = await drain(run)
    assert events[-1]["type"] == "response.failed"
    assert run.response["status"] == "cancelled"
    assert run.retryable is None


async def test_a_timeout_that_is_not_reached_changes_nothing() -> None:
    run = await started(reply("quick"), timeout=TIMEOUT)
    events = await drain(run)
    await asyncio.sleep(TIMEOUT * 2)
    assert events[-1]["type"] == "response.completed"
    assert not run.timed_out
    assert generation(run).aborts == 0


# --- failures ----------------------------------------------------------------------------


async def test_an_engine_error_fails_the_stream() -> None:
    run = await started(reply("x", finish=FinishReason.ERROR, error="CUDA error: out of memory"))
    events = await drain(run)
    assert events[-1]["type"] == "response.failed"
    assert run.response["error"] == {"code": "server_error", "message": "CUDA error: out of memory"}


async def test_an_engine_error_raises_500_for_json() -> None:
    recorder = Recorder()
    run = await started(
        reply("x", finish=FinishReason.ERROR, error="CUDA error: out of memory"),
        observers=[recorder],
    )
    error = await raised(run)
    assert isinstance(error, ServerError)
    assert error.status == 500
    assert error.message == "CUDA error: out of memory"
    assert recorder.calls[-1] == ("finished", "failed")  # the store still keeps it


async def test_an_engine_error_without_detail_raises_the_generic_message() -> None:
    run = await started(reply(finish=FinishReason.ERROR))
    error = await raised(run)
    assert error.status == 500
    assert error.message == run.response["error"]["message"]
    assert error.message


async def test_a_lost_sidecar_fails_the_stream() -> None:
    script = Script([Delta(text="par"), SidecarUnavailable("connection closed")])
    run = await started(script)
    events = await drain(run)
    assert events[-1]["type"] == "response.failed"
    assert run.response["error"]["message"] == LOST
    assert run.response["output"][0]["status"] == "incomplete"
    assert run.response["output"][0]["content"][0]["text"] == "par"
    assert not any(e["type"] == "error" for e in events)


async def test_a_lost_sidecar_raises_503_for_json() -> None:
    run = await started(Script([Delta(text="par"), SidecarUnavailable("connection closed")]))
    error = await raised(run)
    assert isinstance(error, ServiceUnavailable)
    assert error.status == 503
    assert error.headers.get("Retry-After")
    assert error.message == LOST
    assert run.response["status"] == "failed"


async def test_a_request_error_mid_stream_fails_the_stream() -> None:
    failure = RequestError(ErrorCode.INTERNAL, "the engine died")
    run = await started(Script([Delta(text="a"), failure]))
    events = await drain(run)
    assert events[-1]["type"] == "response.failed"
    message = run.response["error"]["message"]
    assert "the engine died" in message


async def test_a_request_error_mid_stream_raises_500_for_json() -> None:
    run = await started(Script([RequestError(ErrorCode.ENGINE_DEAD, "the engine died")]))
    error = await raised(run)
    assert isinstance(error, ServerError)
    assert error.status == 500
    assert "the engine died" in error.message


async def test_an_unexpected_exception_is_an_error_event_then_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = await started(Script([Delta(text="a"), ZeroDivisionError("bug")]))
    with caplog.at_level(logging.ERROR, logger="portico.run"):
        events = await drain(run)
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "response.failed"
    assert kinds.count("error") == 1
    error = next(e for e in events if e["type"] == "error")
    assert error["message"] == UNEXPECTED
    assert "bug" not in error["message"]  # no internals on the wire
    assert kinds.index("error") < len(kinds) - 1
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


async def test_an_unexpected_exception_raises_500_for_json() -> None:
    run = await started(Script([ZeroDivisionError("bug")]))
    error = await raised(run)
    assert isinstance(error, ServerError)
    assert error.message == UNEXPECTED


async def test_a_refused_request_raises_from_start_before_any_event() -> None:
    client = ScriptedClient(
        [Script(refuse=RequestError(ErrorCode.CONTEXT_LENGTH_EXCEEDED, "too long", "input"))]
    )
    body = CreateResponse.model_validate({"model": MODEL, "input": "hi"})
    assert client.handshake is not None
    request = translate.generate_request(body, [], request_id="r", handshake=client.handshake)
    recorder = Recorder()
    run = ResponseRun(
        client,
        request,
        ResponseAssembler(skeleton(body, response_id="r", model=MODEL)),
        observers=[recorder],
    )
    with pytest.raises(RequestError):
        await run.start()
    assert run.generation is None
    assert recorder.calls == []


# --- the generation timeout --------------------------------------------------------------


async def test_the_timeout_aborts_and_fails_the_stream() -> None:
    recorder = Recorder()
    run = await started(Script([Delta(text="slow"), Hang()]), timeout=TIMEOUT, observers=[recorder])
    events = await asyncio.wait_for(drain(run), 5)
    assert run.timed_out
    assert generation(run).aborts >= 1
    assert events[-1]["type"] == "response.failed"
    assert run.response["error"] == {"code": "server_error", "message": timeout_message(TIMEOUT)}
    assert run.response["output"][0]["content"][0]["text"] == "slow"
    assert recorder.calls[-1] == ("finished", "failed")


async def test_the_timeout_is_a_failed_response_for_json_not_a_raise() -> None:
    run = await started(Script([Hang()]), timeout=TIMEOUT)
    response = await asyncio.wait_for(run.result(), 5)
    spec.validate_response(response)
    assert response["status"] == "failed"
    assert response["error"]["message"] == timeout_message(TIMEOUT)
    assert "0.05 s" in response["error"]["message"]
    assert generation(run).aborts >= 1
    assert run.retryable is None


async def test_the_timeout_fires_while_the_consumer_is_slow() -> None:
    script = Script([Delta(text="a"), Delta(text="b"), Final(finish_reason=FinishReason.STOP)])
    run = await started(script, timeout=TIMEOUT)
    events: list[Event] = []
    async for batch in run.events():
        events += batch
        if any(e["type"] == "response.output_text.delta" for e in batch):
            await asyncio.sleep(TIMEOUT * 3)  # the timer fires between two batches
    spec.validate_event_sequence(events)
    assert run.timed_out
    assert generation(run).aborts >= 1
    assert run.response["status"] == "failed"
    assert run.response["error"]["message"] == timeout_message(TIMEOUT)
    assert run.response["output"][0]["content"][0]["text"] == "a"


async def test_the_timeout_fails_when_the_generation_stops_quietly() -> None:
    run = await started(Script([Delta(text="slow"), Hang("stop")]), timeout=TIMEOUT)
    events = await asyncio.wait_for(drain(run), 5)
    assert run.response["error"]["message"] == timeout_message(TIMEOUT)
    assert events[-1]["type"] == "response.failed"


async def test_the_timeout_fails_when_the_sidecar_answers_final_abort() -> None:
    run = await started(Script([Delta(text="slow"), Hang("final")]), timeout=TIMEOUT)
    await asyncio.wait_for(drain(run), 5)
    assert run.response["status"] == "failed"
    assert run.response["error"]["message"] == timeout_message(TIMEOUT)


async def test_a_generation_ending_without_final_still_ends_the_stream() -> None:
    run = await started(Script([Delta(text="a")]))
    events = await drain(run)
    assert events[-1]["type"] == "response.failed"


async def test_a_cancel_by_id_ends_the_run_as_cancelled() -> None:
    run = await started(Script([Delta(text="a"), Hang()]))
    client = run.sidecar
    assert isinstance(client, ScriptedClient)
    events: list[Event] = []
    async for batch in run.events():
        events += batch
        if any(e["type"] == "response.output_text.delta" for e in batch):
            assert await client.cancel(run.request.request_id, reason="test") is True
    spec.validate_event_sequence(events)
    assert client.cancels == [(run.request.request_id, "test")]
    assert events[-1]["type"] == "response.failed"
    assert run.response["status"] == "cancelled"
    assert run.retryable is None
    assert generation(run).aborts == 0  # ended by the sidecar, released normally
    assert await client.cancel("resp_unknown") is False


# --- consumers that leave ------------------------------------------------------------------


async def test_a_consumer_that_stops_early_cancels_the_run() -> None:
    recorder = Recorder()
    run = await started(reply("a", "b", "c"), observers=[recorder])
    stream = run.events()
    seen: list[Event] = []
    async for batch in stream:
        seen += batch
        if any(e["type"] == "response.output_text.delta" for e in batch):
            break
    await run.close()
    assert run.response["status"] == "cancelled"
    g = generation(run)
    assert g.closes == 1
    assert g.aborts == 1  # an unfinished generation is aborted by close()
    assert recorder.calls == [("first_token", "in_progress"), ("finished", "cancelled")]
    spec.validate_response(run.response)
    await run.close()  # settled once
    assert g.closes == 1
    assert len(recorder.calls) == 2  # observers told once
    await stream.aclose()  # type: ignore[attr-defined]
    assert not any(e["type"] in TERMINAL for e in seen)


async def test_leaving_the_context_cancels_the_run_and_its_timer() -> None:
    run = await started(Script([Delta(text="a"), Hang()]), timeout=TIMEOUT)
    async with run:
        stream = run.events()
        async for _ in stream:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(TIMEOUT * 2)
    assert run.response["status"] == "cancelled"
    assert not run.timed_out  # the timer was cancelled with the run
    assert generation(run).aborts == 1


async def test_a_run_never_read_is_cancelled_by_close() -> None:
    recorder = Recorder()
    run = await started(reply("a"), observers=[recorder])
    await run.close()
    assert run.response["status"] == "cancelled"
    assert recorder.calls == [("finished", "cancelled")]


# --- observers ---------------------------------------------------------------------------


async def test_failing_observers_do_not_touch_the_wire(caplog: pytest.LogCaptureFixture) -> None:
    before, after = Recorder(), Recorder()
    run = await started(reply("Hi", "!"), observers=[before, Broken(), after])
    with caplog.at_level(logging.ERROR, logger="portico.run"):
        events = await drain(run)
    assert events[-1]["type"] == "response.completed"
    assert not any(e["type"] == "error" for e in events)
    assert run.response["output"][0]["content"][0]["text"] == "Hi!"
    expected = [("first_token", "in_progress"), ("finished", "completed")]
    assert before.calls == expected
    assert after.calls == expected
    failures = [r for r in caplog.records if "observer Broken failed" in r.getMessage()]
    assert len(failures) == 2  # first_token and finished, each logged


async def test_failing_observers_do_not_change_the_json_answer() -> None:
    after = Recorder()
    run = await started(reply("Hi"), observers=[Broken(), after])
    response = await run.result()
    assert response["status"] == "completed"
    assert after.calls == [("first_token", "in_progress"), ("finished", "completed")]


async def test_first_token_is_told_once() -> None:
    recorder = Recorder()
    script = Script(
        [
            Delta(reasoning="hm"),
            [Delta(text="a"), Delta(text="b")],
            Pause(0),
            Delta(text="c"),
            Final(finish_reason=FinishReason.STOP, usage=usage()),
        ]
    )
    run = await started(script, observers=[recorder])
    await drain(run)
    assert [hook for hook, _ in recorder.calls] == ["first_token", "finished"]


async def test_same_output_streamed_or_not() -> None:
    def script() -> Script:
        return Script(
            [
                Delta(reasoning="hm"),
                Delta(text="Hi"),
                Delta(text=" there"),
                Final(finish_reason=FinishReason.STOP, usage=usage()),
            ]
        )

    streamed = await started(script())
    await drain(streamed)
    plain = await started(script())
    response = await plain.result()

    def shape(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "id"} for item in items]

    assert shape(response["output"]) == shape(streamed.response["output"])
    assert response["usage"] == streamed.response["usage"]
