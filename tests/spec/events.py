"""Validation of a whole Responses event stream.

This module owns ``validate_event_sequence``: every event passes ``validate_stream_event``
(``tests.spec.stream_event``, both specs), and the rules of a Responses event stream that
no schema can express hold, namely numbering, the first and last events, and the
consistency of item ids, ``output_index`` and ``content_index`` across events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tests.spec.bodies import short
from tests.spec.extension_events import standard_events
from tests.spec.stream_event import validate_stream_event

TERMINAL_EVENT_TYPES = frozenset({"response.completed", "response.incomplete", "response.failed"})
_RESPONSE_EVENT_TYPES = frozenset(
    {"response.created", "response.in_progress", "response.queued", *TERMINAL_EVENT_TYPES}
)
# Events about one content part of a message item, keyed to the part type they belong to.
CONTENT_EVENT_TYPES: Mapping[str, str] = {
    "response.output_text.delta": "output_text",
    "response.output_text.done": "output_text",
    "response.output_text.annotation.added": "output_text",
    "response.refusal.delta": "refusal",
    "response.refusal.done": "refusal",
}
# Content part type -> (text channel, the part's field that holds the text).
_PART_TEXT: Mapping[str, tuple[str, str]] = {
    "output_text": ("text", "text"),
    "refusal": ("refusal", "refusal"),
    "reasoning_text": ("reasoning", "text"),
}


class _Item:
    """What the stream has said so far about one output item."""

    def __init__(self, item: Mapping[str, Any], output_index: int) -> None:
        self.id: Any = item.get("id")
        self.type: Any = item.get("type")
        self.output_index = output_index
        self.done: Mapping[str, Any] | None = None
        self.parts: dict[int, str] = {}  # content_index -> part type (added)
        self.parts_done: dict[int, Mapping[str, Any]] = {}
        self.text: dict[tuple[str, int], str] = {}  # (channel, content_index) -> text so far
        self.text_done: dict[tuple[str, int], str] = {}
        self.arguments: str = ""
        self.arguments_done: str | None = None


def _fail(index: int, event: Mapping[str, Any], reason: str) -> AssertionError:
    return AssertionError(f"event #{index} ({event.get('type')}): {reason}")


def validate_event_sequence(events: Sequence[Mapping[str, Any]]) -> None:
    """Assert that a whole Responses event stream is valid and self-consistent.

    Portico's extension events (native mode) are checked by ``standard_events`` and left
    out; the rules below hold for OpenAI's events.

    * every event passes ``validate_stream_event``;
    * ``sequence_number`` is 0, 1, 2, ... in order;
    * the first event is ``response.created``, the second ``response.in_progress``, the last
      one of ``TERMINAL_EVENT_TYPES`` (and no other event is terminal), with a response
      ``status`` matching it; every response-carrying event has the same response ``id``;
    * ``response.output_item.added`` events use ``output_index`` 0, 1, 2, ... and new item
      ids; every event naming an ``item_id``/``output_index`` comes after that item's
      ``added`` and before its ``done`` and agrees on both; each added item has exactly
      one ``response.output_item.done`` with the same id, index and type;
    * a message's parts are announced by ``response.content_part.added`` with
      ``content_index`` 0, 1, ... before any text/refusal event or ``content_part.done``
      for them; each is done once and before its item is done; a ``*.done`` text equals
      the concatenated deltas, the ``content_part.done`` part carries it, and the done
      item's ``content[content_index]`` equals the done part;
    * function call arguments: ``arguments.done`` equals the deltas and the done item's
      ``arguments``; reasoning text: ``reasoning_text.done`` equals its deltas;
    * the final response's ``output`` equals the ``output_item.done`` items in
      ``output_index`` order (for ``response.failed`` an item may be left unfinished).
    """
    if not events:
        raise AssertionError("empty event stream")
    events = standard_events(events)  # Portico's extension events checked, then left out
    for index, event in enumerate(events):
        try:
            validate_stream_event(event)
        except AssertionError as exc:
            raise AssertionError(f"event #{index}: {exc}") from None
        if event["sequence_number"] != index:
            raise _fail(
                index, event, f"sequence_number is {event['sequence_number']}, expected {index}"
            )
    if events[0]["type"] != "response.created":
        raise _fail(0, events[0], "the first event must be response.created")
    if len(events) < 3:
        raise AssertionError(
            "a stream needs at least response.created, response.in_progress and a terminal event"
        )
    if events[1]["type"] != "response.in_progress":
        raise _fail(1, events[1], "the second event must be response.in_progress")
    last = len(events) - 1
    if events[last]["type"] not in TERMINAL_EVENT_TYPES:
        raise _fail(
            last, events[last], f"the last event must be one of {sorted(TERMINAL_EVENT_TYPES)}"
        )
    _check_responses(events)
    items = _check_items(events)
    _check_final_output(events[last], items)


def _check_responses(events: Sequence[Mapping[str, Any]]) -> None:
    response_id: Any = None
    expected_status = {
        "response.created": ("in_progress", "queued"),
        "response.in_progress": ("in_progress",),
        "response.completed": ("completed",),
        "response.incomplete": ("incomplete",),
        # a cancelled run ends with response.failed: the stream has no cancelled event
        "response.failed": ("failed", "cancelled"),
    }
    last = len(events) - 1
    for index, event in enumerate(events):
        event_type = event["type"]
        if event_type in TERMINAL_EVENT_TYPES and index != last:
            raise _fail(index, event, "a terminal event before the end of the stream")
        if event_type not in _RESPONSE_EVENT_TYPES:
            continue
        response = event["response"]
        if response_id is None:
            response_id = response["id"]
        elif response["id"] != response_id:
            raise _fail(index, event, f"response id {response['id']!r} != {response_id!r}")
        allowed = expected_status.get(event_type)
        if allowed is not None and response.get("status") not in allowed:
            raise _fail(
                index, event, f"response.status is {response.get('status')!r}, expected {allowed}"
            )


def _item_for(
    index: int, event: Mapping[str, Any], items: list[_Item], by_id: dict[Any, _Item]
) -> _Item:
    output_index = event.get("output_index")
    if not isinstance(output_index, int) or not 0 <= output_index < len(items):
        raise _fail(index, event, f"output_index {output_index!r} names no added item")
    item = items[output_index]
    if "item_id" in event and event["item_id"] != item.id:
        raise _fail(
            index,
            event,
            f"item_id {event['item_id']!r} is not the id {item.id!r} of output_index "
            f"{output_index}"
            + (
                f" (that id belongs to output_index {by_id[event['item_id']].output_index})"
                if event["item_id"] in by_id
                else ""
            ),
        )
    if item.done is not None and event["type"] != "response.output_item.done":
        raise _fail(index, event, f"item {item.id!r} is already done")
    return item


def _check_items(events: Sequence[Mapping[str, Any]]) -> list[_Item]:
    items: list[_Item] = []
    by_id: dict[Any, _Item] = {}
    for index, event in enumerate(events):
        event_type = event["type"]
        if event_type == "response.output_item.added":
            if event["output_index"] != len(items):
                raise _fail(
                    index, event, f"output_index {event['output_index']}, expected {len(items)}"
                )
            new = _Item(event["item"], event["output_index"])
            if new.id is None or new.id in by_id:
                raise _fail(index, event, f"item id {new.id!r} is missing or not new")
            items.append(new)
            by_id[new.id] = new
        elif "output_index" in event:
            item = _item_for(index, event, items, by_id)
            _apply(index, event, item)
    return items


def _apply(index: int, event: Mapping[str, Any], item: _Item) -> None:
    event_type = event["type"]
    if event_type == "response.output_item.done":
        _finish_item(index, event, item)
    elif event_type == "response.content_part.added":
        content_index = event["content_index"]
        if content_index != len(item.parts):
            raise _fail(index, event, f"content_index {content_index}, expected {len(item.parts)}")
        part_type = event["part"]["type"]
        owner = "reasoning" if part_type == "reasoning_text" else "message"
        if item.type != owner:
            raise _fail(index, event, f"a {part_type!r} part in a {item.type!r} item")
        item.parts[content_index] = part_type
    elif event_type == "response.content_part.done":
        content_index = event["content_index"]
        part = event["part"]
        _need_part(index, event, item, part["type"])
        if content_index in item.parts_done:
            raise _fail(index, event, f"content part {content_index} is done twice")
        channel, field = _PART_TEXT[part["type"]]
        streamed = item.text_done.get((channel, content_index))
        if streamed is not None and part.get(field) != streamed:
            raise _fail(index, event, f"part.{field} differs from the streamed text")
        item.parts_done[content_index] = part
    elif event_type in CONTENT_EVENT_TYPES:
        part_type = CONTENT_EVENT_TYPES[event_type]
        _need_part(index, event, item, part_type)
        if event["content_index"] in item.parts_done:
            raise _fail(index, event, f"content part {event['content_index']} is already done")
        _stream_text(index, event, item, *_PART_TEXT[part_type])
    elif event_type.startswith("response.function_call_arguments."):
        if item.type != "function_call":
            raise _fail(index, event, f"item {item.id!r} is a {item.type!r}, not a function_call")
        if item.arguments_done is not None:
            raise _fail(index, event, "arguments already done")
        if event_type.endswith(".delta"):
            item.arguments += event["delta"]
        else:
            if item.arguments and event["arguments"] != item.arguments:
                raise _fail(index, event, "arguments differ from the concatenated deltas")
            item.arguments_done = event["arguments"]
    elif event_type.startswith(("response.reasoning_text.", "response.reasoning_summary")):
        if item.type != "reasoning":
            raise _fail(index, event, f"item {item.id!r} is a {item.type!r}, not reasoning")
        if event_type.startswith("response.reasoning_text."):
            _stream_text(index, event, item, *_PART_TEXT["reasoning_text"])


def _need_part(index: int, event: Mapping[str, Any], item: _Item, part_type: str) -> None:
    content_index = event["content_index"]
    if content_index not in item.parts:
        raise _fail(
            index, event, f"content_index {content_index} of item {item.id!r} was never added"
        )
    if item.parts[content_index] != part_type:
        raise _fail(
            index,
            event,
            f"content part {content_index} is {item.parts[content_index]!r}, not {part_type!r}",
        )


def _stream_text(
    index: int, event: Mapping[str, Any], item: _Item, channel: str, field: str
) -> None:
    key = (channel, event["content_index"])
    if key in item.text_done:
        raise _fail(index, event, f"{channel} of content_index {key[1]} is already done")
    if event["type"].endswith(".delta"):
        item.text[key] = item.text.get(key, "") + event["delta"]
        return
    done_text = event[field]
    if key in item.text and item.text[key] != done_text:
        raise _fail(index, event, f"{field} differs from the concatenated deltas")
    item.text_done[key] = done_text


def _finish_item(index: int, event: Mapping[str, Any], item: _Item) -> None:
    if item.done is not None:
        raise _fail(index, event, f"item {item.id!r} is done twice")
    done = event["item"]
    if done.get("id") != item.id or done.get("type") != item.type:
        raise _fail(
            index,
            event,
            f"done item ({done.get('type')!r}, {done.get('id')!r}) is not the added one "
            f"({item.type!r}, {item.id!r})",
        )
    unfinished = sorted(set(item.parts) - set(item.parts_done))
    if unfinished:
        raise _fail(index, event, f"content part(s) {unfinished} were never done")
    content = done.get("content")
    for content_index, part in item.parts_done.items():
        if not isinstance(content, list) or content_index >= len(content):
            raise _fail(index, event, f"item has no content[{content_index}]")
        if content[content_index] != part:
            raise _fail(index, event, f"content[{content_index}] differs from content_part.done")
    if item.parts and isinstance(content, list) and len(content) != len(item.parts):
        raise _fail(
            index, event, f"item has {len(content)} content parts, {len(item.parts)} streamed"
        )
    if (
        item.type == "function_call"
        and item.arguments_done is not None
        and done.get("arguments") != item.arguments_done
    ):
        raise _fail(index, event, "item.arguments differs from function_call_arguments.done")
    if item.type == "reasoning" and isinstance(content, list):
        for (channel, content_index), text in item.text_done.items():
            if channel == "reasoning" and (
                content_index >= len(content) or content[content_index].get("text") != text
            ):
                raise _fail(
                    index, event, f"content[{content_index}].text differs from reasoning_text.done"
                )
    item.done = done


def _check_final_output(final: Mapping[str, Any], items: list[_Item]) -> None:
    index = final["sequence_number"]
    if final["type"] != "response.failed":
        unfinished = [item.id for item in items if item.done is None]
        if unfinished:
            raise _fail(index, final, f"item(s) {unfinished} were added but never done")
    done_items = [item.done for item in items if item.done is not None]
    output = final["response"].get("output")
    if output != done_items:
        raise _fail(
            index,
            final,
            f"response.output ({len(output) if isinstance(output, list) else short(output)} "
            f"items) differs from the {len(done_items)} output_item.done items in order",
        )
