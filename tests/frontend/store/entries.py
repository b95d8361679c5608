"""Stored entries for the store tests: one turn each, optionally continuing another."""

from __future__ import annotations

from frontend.store import StoredResponse
from inference.protocol import ChatMessage, Role


def entry(response_id: str, text: str = "hi", previous: str | None = None) -> StoredResponse:
    return StoredResponse(
        response={
            "id": response_id,
            "object": "response",
            "status": "completed",
            "previous_response_id": previous,
            "output": [
                {
                    "type": "message",
                    "id": f"msg_out_{response_id}",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": f"re: {text}", "annotations": []}],
                }
            ],
        },
        input_items=[
            {
                "type": "message",
                "id": f"msg_in_{response_id}",
                "role": "user",
                "status": "completed",
                "content": [{"type": "input_text", "text": text}],
            }
        ],
        messages=[ChatMessage(role=Role.USER, content=text)],
    )
