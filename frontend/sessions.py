"""Tool-output sessions: a stored response that ended in tool calls (function calls, or
custom tool calls such as Codex's apply_patch) waits for their outputs, and
`POST /v1/responses/{id}/tool_outputs` (routes/tool_outputs.py) continues it.

Owns what a session means, in native mode (compatibility mode keeps no sessions):

- a run that ends `completed` with function or custom tool calls in its latest round is
  stored waiting: status `requires_action` and a `required_action` object listing the
  pending calls (as the Assistants API's `submit_tool_outputs`; a custom tool's call is
  listed with `type: custom` and its `input`). The run's own answer (create's JSON or stream)
  keeps OpenAI's `completed`, so OpenAI clients and OpenAI's own loop see no change;
- the session (store/tool_session.py) lives in the entry, so any worker continues it: the
  create request to run again, the next `sequence_number`, where the latest round's output
  starts (history.py turns only that round into the assistant's message) and since when it
  has waited;
- a continuation is the same response, updated: its output grows by the new round, its
  `usage` is the sum of its rounds, its stream continues the sequence numbers and output
  indexes, and the submitted outputs join its `input_items` as function_call_output items
  (custom_tool_call_output for a custom tool's call);
- `--responses-tool-timeout` (TOOL_TIMEOUT, 0 = off): a response that waited longer fails
  with code `tool_output_timeout`. It is checked lazily, when the response is read (GET) or
  continued, and the failed response is then stored.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from inference.protocol import ChatMessage, Final, Role

from . import metrics, translate
from .errors import Conflict, InvalidRequest, Unsupported
from .observers import MetricsObserver, StoreObserver, log
from .openai.request import CreateResponse
from .openai.response import new_id
from .openai.tool_outputs import ToolOutput
from .run import ResponseRun
from .store import ResponseStore, StoredResponse
from .store.tool_session import ToolSession
from .streaming import events as ev
from .streaming.assembler import ResponseAssembler
from .streaming.events import Event

WAITING = "requires_action"
ACTION = "submit_tool_outputs"
TIMEOUT_CODE = "tool_output_timeout"
PARAM = "tool_outputs"
# The create fields a continuation does not run again: its input is the stored turn.
NOT_KEPT = {"input", "stream", "previous_response_id"}


def kept_request(body: CreateResponse) -> dict[str, Any]:
    """The create body a continuation runs again, as JSON."""
    return body.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=NOT_KEPT)


def request_of(session: ToolSession) -> CreateResponse:
    return CreateResponse.model_validate(session.request)


CALL_TYPES = ("function_call", "custom_tool_call")  # the calls a response waits on


def calls_of(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in output if item.get("type") in CALL_TYPES]


def _listed(call: dict[str, Any]) -> dict[str, Any]:
    """A pending call as `required_action` lists it: a function's `arguments`, or a custom
    tool's free-form `input` (Codex's apply_patch)."""
    listed = {"id": call["id"], "call_id": call["call_id"], "name": call["name"]}
    if call["type"] == "custom_tool_call":
        return dict(listed, type="custom", input=call["input"])
    return dict(listed, type="function", arguments=call["arguments"])


def waiting_view(response: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The response as stored while it waits: requires_action, with the pending calls."""
    action = {"type": ACTION, ACTION: {"tool_calls": [_listed(c) for c in calls]}}
    return dict(response, status=WAITING, required_action=action)


def pending(entry: StoredResponse) -> list[dict[str, Any]]:
    """The calls the response waits for; [] when it waits for none."""
    session = entry.session
    if session is None or session.waiting_since is None or entry.response["status"] != WAITING:
        return []
    return calls_of(entry.response["output"][session.round_start :])


def timeout_message(seconds: float) -> str:
    return (
        f"The response waited more than {seconds:g} s for its tool outputs (PORTICO_TOOL_TIMEOUT"
        " / --responses-tool-timeout); it failed."
    )


async def settle(
    store: ResponseStore, tenant: str, entry: StoredResponse, timeout: float
) -> StoredResponse:
    """The entry as it stands now: a response that waited past the tool timeout is failed
    (and stored so)."""
    session = entry.session
    if timeout <= 0 or session is None or session.waiting_since is None:
        return entry
    if time.time() < session.waiting_since + timeout or not pending(entry):
        return entry
    response = {k: v for k, v in entry.response.items() if k != "required_action"}
    response.update(
        status="failed",
        completed_at=None,
        error={"code": TIMEOUT_CODE, "message": timeout_message(timeout)},
    )
    failed = msgspec.structs.replace(
        entry, response=response, session=msgspec.structs.replace(session, waiting_since=None)
    )
    await store.put(tenant, failed)
    metrics.tool_session_closed("expired")
    return failed


def waiting_calls(entry: StoredResponse) -> list[dict[str, Any]]:
    """The pending calls, or 409 for a response that waits for none."""
    calls = pending(entry)
    if calls:
        return calls
    status = entry.response["status"]
    error = entry.response.get("error") or {}
    if error.get("code") == TIMEOUT_CODE:
        why = "it expired waiting for them (tool_output_timeout)"
    elif status == "in_progress":
        why = "its tool outputs were submitted and it is running"
    else:
        why = f"it is {status} and has no pending tool calls"
    raise Conflict(f"Response '{entry.id}' does not accept tool outputs: {why}.", param=PARAM)


def _text(output: ToolOutput, index: int) -> str:
    if isinstance(output.output, str):
        return output.output
    texts = []
    for j, part in enumerate(output.output):
        if part.type not in translate.TEXT_PARTS or part.text is None:
            where = f"{PARAM}[{index}].output[{j}]"
            raise Unsupported(f"Content of type '{part.type}' is not supported.", param=where)
        texts.append(part.text)
    return "\n".join(texts)


def answer(
    calls: list[dict[str, Any]], outputs: list[ToolOutput]
) -> tuple[list[ChatMessage], list[dict[str, Any]]]:
    """The outputs as tool messages and as input items, in the calls' order; a 400 naming the
    output or call that does not fit (every pending call needs exactly one output)."""
    by_id: dict[str, tuple[int, ToolOutput]] = {}
    wanted = {c["call_id"] for c in calls}
    for index, output in enumerate(outputs):
        where = f"{PARAM}[{index}].call_id"
        if output.call_id not in wanted:
            raise InvalidRequest(
                f"No pending tool call has call_id '{output.call_id}'; pending: "
                + ", ".join(sorted(wanted))
                + ".",
                param=where,
                code="invalid_value",
            )
        if output.call_id in by_id:
            raise InvalidRequest(
                f"call_id '{output.call_id}' is given more than once.",
                param=where,
                code="invalid_value",
            )
        by_id[output.call_id] = (index, output)
    missing = [c["call_id"] for c in calls if c["call_id"] not in by_id]
    if missing:
        raise InvalidRequest(
            "Every pending tool call needs its output; missing: " + ", ".join(missing) + ".",
            param=PARAM,
            code="missing_tool_outputs",
        )
    messages: list[ChatMessage] = []
    items: list[dict[str, Any]] = []
    for call in calls:
        index, output = by_id[call["call_id"]]
        text = _text(output, index)
        messages.append(ChatMessage(role=Role.TOOL, content=text, tool_call_id=call["call_id"]))
        given: Any = output.output
        if not isinstance(given, str):
            given = [{"type": "input_text", "text": p.text or ""} for p in given]
        if call["type"] == "custom_tool_call":  # as items.py keeps one (it has no status)
            item = {"type": "custom_tool_call_output", "id": new_id("ctco")}
        else:
            item = {"type": "function_call_output", "id": new_id("fco"), "status": "completed"}
        items.append(dict(item, call_id=call["call_id"], output=given))
    return messages, items


def resumed(response: dict[str, Any]) -> dict[str, Any]:
    """The response as a continuation starts it: in progress, its output kept."""
    out = {k: v for k, v in response.items() if k != "required_action"}
    out.update(
        status="in_progress",
        completed_at=None,
        error=None,
        incomplete_details=None,
        output=list(response["output"]),
    )
    return out


class SessionObserver(StoreObserver):
    """The store observer of native mode: keeps the entry with its session, waiting
    (requires_action) when the run's latest round ended in function calls. `stored` is the
    response as stored (the continuation route answers it)."""

    def __init__(
        self,
        store: ResponseStore,
        tenant: str,
        messages: list[ChatMessage],
        input_items: list[dict[str, Any]],
        request: dict[str, Any],
        *,
        round_start: int = 0,
        rounds: int = 0,
    ) -> None:
        super().__init__(store, tenant, messages, input_items)
        self.request = request
        self.round_start = round_start
        self.rounds = rounds
        self.stored: dict[str, Any] | None = None

    async def store_final(self, run: ResponseRun) -> None:
        response = run.response
        calls = calls_of(response["output"][self.round_start :])
        waiting = response["status"] == "completed" and bool(calls)
        session: ToolSession | None = None
        if waiting or self.rounds:
            session = ToolSession(
                request=self.request,
                sequence=run.assembler.seq,
                round_start=self.round_start,
                rounds=self.rounds,
                waiting_since=time.time() if waiting else None,
            )
        self.stored = waiting_view(response, calls) if waiting else response
        entry = StoredResponse(
            response=self.stored,
            input_items=self.input_items,
            messages=self.messages,
            session=session,
        )
        if not await self.store.put(self.tenant, entry):
            log.warning("response %s is larger than the store's byte cap; not stored", entry.id)
        elif waiting:
            metrics.tool_session_opened()


def store_observer(
    compatibility: bool,
    store: ResponseStore,
    tenant: str,
    messages: list[ChatMessage],
    input_items: list[dict[str, Any]],
    body: CreateResponse,
) -> StoreObserver:
    """Create's store observer: sessions in native mode, plain entries in compatibility."""
    if compatibility:
        return StoreObserver(store, tenant, messages, input_items)
    return SessionObserver(store, tenant, messages, input_items, kept_request(body))


USAGE_KEYS = (
    ("input_tokens",),
    ("input_tokens_details", "cached_tokens"),
    ("output_tokens",),
    ("output_tokens_details", "reasoning_tokens"),
    ("total_tokens",),
)


def _add(total: dict[str, Any], prior: dict[str, Any]) -> None:
    for path in USAGE_KEYS:
        into, source = total, prior
        for key in path[:-1]:
            into, source = into[key], source.get(key) or {}
        into[path[-1]] += source.get(path[-1]) or 0


class ContinuationAssembler(ResponseAssembler):
    """The assembler of a continuation: the stream goes on from the stored sequence number
    with `response.in_progress` (the response was created long ago), output indexes go on
    after the kept output, and `usage` adds this round's to the earlier rounds'."""

    def __init__(self, response: dict[str, Any], *, sequence: int, **kwargs: Any) -> None:
        super().__init__(response, **kwargs)
        self.seq = sequence
        self.prior: dict[str, Any] = response["usage"]
        self.round_usage: dict[str, Any] | None = None

    def start(self) -> list[Event]:
        return [ev.response_event("in_progress", self._seq(), self._snapshot())]

    def finish(self, final: Final) -> list[Event]:
        out = super().finish(final)
        total = self.response["usage"]  # this round's, shared with the terminal event
        self.round_usage = {k: (dict(v) if isinstance(v, dict) else v) for k, v in total.items()}
        _add(total, self.prior)
        return out


class RoundMetrics(MetricsObserver):
    """Metrics of a continuation (made once it started: its session is continued): the
    tokens of this round only (`usage` holds the sum)."""

    def __init__(self, model: str, started: float) -> None:
        super().__init__(model, started)
        metrics.tool_session_closed("continued")

    def usage(self, run: ResponseRun) -> dict[str, Any] | None:
        round_usage: dict[str, Any] | None = getattr(run.assembler, "round_usage", None)
        return round_usage
