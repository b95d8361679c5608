"""Reasoning text split from the answer as it streams, with a vLLM reasoning parser."""

from __future__ import annotations

from typing import Any, Protocol


class ReasoningSplit(Protocol):
    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, str]:
        """(reasoning text, answer text) in this delta."""
        ...


class NoReasoning:
    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, str]:
        return "", delta


class ParsedReasoning:
    def __init__(self, parser: Any) -> None:
        self.parser = parser
        self.text = ""
        self.ids: list[int] = []

    def feed(self, delta: str, token_ids: list[int]) -> tuple[str, str]:
        previous, previous_ids = self.text, self.ids
        self.text, self.ids = previous + delta, previous_ids + token_ids
        message = self.parser.extract_reasoning_streaming(
            previous, self.text, delta, previous_ids, self.ids, token_ids
        )
        if message is None:
            return "", ""
        reasoning = getattr(message, "reasoning", None) or getattr(
            message, "reasoning_content", None
        )
        return reasoning or "", message.content or ""
