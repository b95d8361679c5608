"""Stream a response from Portico with the openai SDK and print its text as it arrives.

    PORTICO_BASE_URL=http://127.0.0.1:8000/v1 PORTICO_MODEL=SmolLM2-135M-Instruct \
        python examples/streaming.py

Environment: PORTICO_BASE_URL (default http://127.0.0.1:8000/v1), PORTICO_MODEL (default:
the first model the server lists), PORTICO_API_KEY (default "unused": a server without keys
takes any), PORTICO_PROMPT (default: a short question).

Exits 1 when the stream does not end with `response.completed` (or `incomplete`), or when
its standard events are not numbered 0, 1, 2, ...
"""

from __future__ import annotations

import os
import sys

from openai import OpenAI

EXTENSIONS = {  # Portico's native-mode events: they repeat the number of the event before
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
    prompt = os.environ.get("PORTICO_PROMPT", "Name three colours of the rainbow.")
    expected = 0
    final = None
    with api.responses.create(
        model=model_of(api), input=prompt, stream=True, max_output_tokens=64
    ) as stream:
        for event in stream:
            if event.type not in EXTENSIONS:
                if event.sequence_number != expected:
                    print(
                        f"\nevent {event.type} has number {event.sequence_number}, "
                        f"expected {expected}",
                        file=sys.stderr,
                    )
                    return 1
                expected += 1
            if event.type == "response.output_text.delta":
                print(event.delta, end="", flush=True)
            elif event.type in ("response.completed", "response.incomplete"):
                final = event.response
            elif event.type in ("response.failed", "error"):
                print(f"\nthe response failed: {event}", file=sys.stderr)
                return 1
    print()
    if final is None:
        print("the stream ended without a terminal event", file=sys.stderr)
        return 1
    usage = final.usage
    print(
        f"[{final.id}: {final.status}, {expected} events, "
        f"{usage.output_tokens if usage else '?'} output tokens]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
