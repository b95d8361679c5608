"""A function-tool loop against Portico: the model calls `get_weather`, this script runs it
and sends the result back with `previous_response_id` and a `function_call_output` item,
until the model answers in text.

    PORTICO_BASE_URL=http://127.0.0.1:8000/v1 python examples/tools.py

The first turn uses `tool_choice: "required"` (so even a small model calls the tool; its
arguments satisfy the tool's schema), later turns `auto` (the server needs a tool-call
parser, e.g. vLLM's `--tool-call-parser hermes`; the embedded model has one).

Environment: PORTICO_BASE_URL, PORTICO_MODEL, PORTICO_API_KEY (as in streaming.py),
PORTICO_PROMPT (default: a weather question). Exits 1 when the model calls no tool on the
first turn, calls an unknown one, or never answers in text.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from openai import OpenAI

MAX_ROUNDS = 4
TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "a city name"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    }
]


def get_weather(city: str) -> str:
    """The local "tool": a fixed forecast, so the output is easy to recognise."""
    return json.dumps({"city": city, "forecast": "sunny", "celsius": 21})


def client() -> OpenAI:
    return OpenAI(
        base_url=os.environ.get("PORTICO_BASE_URL", "http://127.0.0.1:8000/v1"),
        api_key=os.environ.get("PORTICO_API_KEY", "unused"),
    )


def model_of(api: OpenAI) -> str:
    return os.environ.get("PORTICO_MODEL") or api.models.list().data[0].id


def main() -> int:
    api = client()
    model = model_of(api)
    prompt = os.environ.get(
        "PORTICO_PROMPT", "What is the weather in Paris? Use the get_weather tool."
    )
    response = api.responses.create(
        model=model, input=prompt, tools=TOOLS, tool_choice="required", max_output_tokens=128
    )
    rounds = 0
    while calls := [item for item in response.output if item.type == "function_call"]:
        rounds += 1
        outputs: list[Any] = []
        for call in calls:
            if call.name != "get_weather":
                print(f"the model called an unknown tool {call.name!r}", file=sys.stderr)
                return 1
            try:
                city = str(json.loads(call.arguments).get("city", ""))
            except (ValueError, AttributeError):
                city = ""  # a model may send arguments that are not an object
            output = get_weather(city)
            print(f"round {rounds}: {call.name}({call.arguments}) -> {output}")
            outputs.append(
                {"type": "function_call_output", "call_id": call.call_id, "output": output}
            )
        response = api.responses.create(
            model=model,
            previous_response_id=response.id,  # the stored conversation, calls included
            input=outputs,
            tools=TOOLS,
            tool_choice="auto" if rounds < MAX_ROUNDS else "none",  # "none": answer now
            max_output_tokens=128,
        )
    if rounds == 0:
        print("the model called no tool", file=sys.stderr)
        return 1
    if not response.output_text:
        print(f"no text in the final response ({response.status})", file=sys.stderr)
        return 1
    print(f"answer: {response.output_text}")
    print(f"[{response.id}: {response.status}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
