"""Tests of ``tests.spec``'s stream-event checks: single events, and whole event streams
that must pass or fail ``validate_event_sequence``.
"""

from __future__ import annotations

import copy
import json

from tests import spec
from tests.spec.samples import RS_ID, fails, needs_spec, renumber, text_stream, tool_stream

pytestmark = needs_spec

# --------------------------------------------------------------------------- single events


def test_every_event_of_a_text_stream_is_valid() -> None:
    for event in text_stream():
        spec.validate_stream_event(event)


def test_unknown_event_type_fails() -> None:
    fails(
        spec.validate_stream_event,
        {"type": "response.output_text.chunk", "sequence_number": 0},
        match="unknown stream event type 'response.output_text.chunk'",
    )


def test_legacy_event_name_fails_and_names_its_successor() -> None:
    event = {
        "type": "response.reasoning.delta",
        "item_id": RS_ID,
        "output_index": 0,
        "content_index": 0,
        "delta": "x",
        "sequence_number": 3,
    }
    fails(spec.validate_stream_event, event, match="legacy.*response.reasoning_text.delta")


def test_event_missing_required_field_fails() -> None:
    event = text_stream()[4]
    assert event["type"] == "response.output_text.delta"
    del event["logprobs"]
    fails(spec.validate_stream_event, event, match=r"lacks required field\(s\) \['logprobs'\]")


def test_event_with_wrong_field_type_fails() -> None:
    event = text_stream()[4]
    event["output_index"] = "0"
    fails(spec.validate_stream_event, event, match=r"at \$\.output_index: '0' is not of type")


def test_event_carrying_an_invalid_response_fails() -> None:
    event = text_stream()[-1]
    del event["response"]["output"][0]["content"][0]["annotations"]
    fails(spec.validate_stream_event, event, match=r"\$\.response\.output\[0\]\.content\[0\]")


def test_error_event_requires_code_and_param() -> None:
    ok = {"type": "error", "code": None, "message": "boom", "param": None, "sequence_number": 5}
    spec.validate_openai_stream_event(ok)
    partial = {"type": "error", "message": "boom", "sequence_number": 5}
    fails(spec.validate_stream_event, partial, match=r"\['code', 'param'\]")


def test_event_without_a_spec_schema_checks_the_sdk_fields() -> None:
    event = {"type": "response.compaction.compacting", "item_id": "cmp_1", "output_index": 0}
    fails(spec.validate_stream_event, event, match=r"\['sequence_number'\]")
    spec.validate_openai_stream_event({**event, "sequence_number": 2})


# --------------------------------------------------------------------------- sequences


def test_text_stream_passes() -> None:
    spec.validate_event_sequence(text_stream())


def test_tool_and_reasoning_stream_passes() -> None:
    spec.validate_event_sequence(tool_stream())


def test_sequence_survives_a_json_round_trip() -> None:
    spec.validate_event_sequence(json.loads(json.dumps(text_stream())))


def test_bad_sequence_number_fails() -> None:
    events = text_stream()
    events[3]["sequence_number"] = 4
    fails(spec.validate_event_sequence, events, match="sequence_number is 4, expected 3")
    events = text_stream()
    events[0]["sequence_number"] = 1
    fails(spec.validate_event_sequence, events, match="sequence_number is 1, expected 0")


def test_invalid_event_inside_a_sequence_fails_with_its_index() -> None:
    events = text_stream()
    events[4]["type"] = "response.output_text.chunk"
    fails(spec.validate_event_sequence, events, match="event #4: unknown stream event type")


def test_first_second_and_last_events_are_fixed() -> None:
    events = renumber(text_stream()[1:])
    fails(spec.validate_event_sequence, events, match="first event must be response.created")
    events = text_stream()
    del events[1]
    fails(spec.validate_event_sequence, renumber(events), match="second event")
    events = renumber(text_stream()[:-1])
    fails(spec.validate_event_sequence, events, match="last event must be one of")
    fails(spec.validate_event_sequence, [], match="empty")


def test_terminal_status_must_match_the_event() -> None:
    events = text_stream()
    events[-1]["type"] = "response.incomplete"
    fails(spec.validate_event_sequence, events, match="response.status is 'completed'")


def test_incomplete_stream_passes() -> None:
    events = text_stream()
    final = events[-1]
    final["type"] = "response.incomplete"
    final["response"]["status"] = "incomplete"
    final["response"]["completed_at"] = None
    final["response"]["incomplete_details"] = {"reason": "max_output_tokens"}
    spec.validate_event_sequence(events)


def test_delta_before_its_item_or_part_fails() -> None:
    events = text_stream()
    delta = events.pop(4)
    events.insert(2, delta)
    fails(spec.validate_event_sequence, renumber(events), match="names no added item")
    events = text_stream()
    delta = events.pop(4)
    events.insert(3, delta)
    fails(spec.validate_event_sequence, renumber(events), match="was never added")


def test_wrong_item_id_fails() -> None:
    events = text_stream()
    events[5]["item_id"] = "msg_other"
    fails(spec.validate_event_sequence, events, match="item_id 'msg_other' is not the id")


def test_wrong_content_index_fails() -> None:
    events = text_stream()
    events[4]["content_index"] = 1
    fails(spec.validate_event_sequence, events, match="content_index 1 .* was never added")


def test_done_text_must_equal_the_deltas() -> None:
    events = text_stream()
    events[6]["text"] = "Hello?"
    fails(spec.validate_event_sequence, events, match="differs from the concatenated deltas")


def test_added_item_without_done_fails() -> None:
    events = text_stream()
    del events[-2]
    events[-1]["response"]["output"] = []
    fails(spec.validate_event_sequence, renumber(events), match="never done")


def test_final_output_must_equal_the_done_items() -> None:
    events = text_stream()
    events[-1]["response"]["output"] = []
    fails(spec.validate_event_sequence, events, match="differs from the 1 output_item.done")
    events = tool_stream()
    final_output = events[-1]["response"]["output"]
    final_output.reverse()
    fails(spec.validate_event_sequence, events, match="differs from the 2 output_item.done")


def test_output_indexes_must_count_up() -> None:
    events = tool_stream()
    events[7]["output_index"] = 2
    fails(spec.validate_event_sequence, events, match="output_index 2, expected 1")


def test_function_arguments_must_match() -> None:
    events = tool_stream()
    events[11]["item"]["arguments"] = "{}"
    events[-1]["response"]["output"][1]["arguments"] = "{}"
    fails(spec.validate_event_sequence, events, match="item.arguments differs")


def test_event_after_item_done_fails() -> None:
    events = tool_stream()
    late = copy.deepcopy(events[3])
    events.insert(7, late)
    fails(spec.validate_event_sequence, renumber(events), match="already done")
