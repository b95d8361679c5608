"""A background response, and its stream resumed after a dropped connection.

    PORTICO_BASE_URL=http://127.0.0.1:8000/v1 python examples/background_resume.py

Creates a response with `background: true` and `stream: true`, reads its stream up to the
first few events, then drops the connection (the run goes on in the server), and resumes
with `responses.retrieve(id, stream=True, starting_after=N)`: the events after N, replayed
from the server's log and then followed live to the end. Any worker or pod on the same
store can serve the resume. Finally it polls the stored response.

Environment: PORTICO_BASE_URL, PORTICO_MODEL, PORTICO_API_KEY (as in streaming.py),
PORTICO_PROMPT (default: a request for a short story), PORTICO_READ_EVENTS (events to read
before dropping, default 4). Exits 1 when the resumed stream does not continue at N + 1 or
does not end with a terminal event, or when the stored response is not finished.
"""

from __future__ import annotations

import os
import sys

from openai import OpenAI

TERMINAL = ("response.completed", "response.incomplete", "response.failed", "response.cancelled")
EXTENSIONS = {  # Portico's native-mode events repeat the number of the event before them
    "response.ping",
    "response.rate_limits.updated",
    "response.additional_context",
    "response.tool_call.delta",
    "response.error",
}


def client() -> OpenAI:
    return OpenAI(
        base_url=os.environ.get("PORTICO_BASE_URL", "http://127.0.0.1:8000/v1"),
        api_key=os.environ.get("PORTICO_API_KEY", "unused"),
    )


def model_of(api: OpenAI) -> str:
    return os.environ.get("PORTICO_MODEL") or api.models.list().data[0].id


def main() -> int:
    api = client()
    prompt = os.environ.get("PORTICO_PROMPT", "Tell a short story about a lighthouse.")
    read = int(os.environ.get("PORTICO_READ_EVENTS", "4"))
    response_id, last = "", -1
    stream = api.responses.create(
        model=model_of(api), input=prompt, background=True, stream=True, max_output_tokens=96
    )
    for event in stream:
        if event.type == "response.created":
            response_id = event.response.id
        if event.type in EXTENSIONS:
            continue
        last = event.sequence_number
        print(f"first connection: #{last} {event.type}")
        if last + 1 >= read or event.type in TERMINAL:
            break
    stream.close()  # the connection drops; the background run goes on
    if not response_id:
        print("the stream carried no response.created", file=sys.stderr)
        return 1
    print(f"dropped after #{last}; resuming {response_id}")

    expected, text, terminal = last + 1, [], None
    resumed = api.responses.retrieve(response_id, stream=True, starting_after=last)
    for event in resumed:
        if event.type in EXTENSIONS:
            continue
        if event.sequence_number != expected:
            print(
                f"resumed event {event.type} is #{event.sequence_number}, expected #{expected}",
                file=sys.stderr,
            )
            return 1
        expected += 1
        if event.type == "response.output_text.delta":
            text.append(event.delta)
        if event.type in TERMINAL:
            terminal = event.type
    if terminal is None:
        print("the resumed stream ended without a terminal event", file=sys.stderr)
        return 1
    print(f"resumed: events #{last + 1}..#{expected - 1}, ending with {terminal}")
    print(f"text after the resume point: {''.join(text)!r}")

    stored = api.responses.retrieve(response_id)  # a poll: queued, in_progress, then final
    if stored.status in ("queued", "in_progress"):
        print(f"the stored response is still {stored.status}", file=sys.stderr)
        return 1
    print(f"[{stored.id}: {stored.status}] {stored.output_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
