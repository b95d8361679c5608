"""The conversation a `previous_response_id` continues, rebuilt from the stored chain.

Owns turning a chain of stored turns (store/base.py: each keeps its own input messages and
its Response) into the chat messages that precede this request's input: for each turn,
oldest first, its input then its output as the assistant's turn. Instructions are not
carried over (as at OpenAI). The chain is walked to MAX_CHAIN_DEPTH turns; a missing turn
(the id itself, or an earlier one that was deleted, expired or evicted) is 404
previous_response_not_found, another tenant's id included.
"""

from __future__ import annotations

from inference.protocol import ChatMessage

from . import translate
from .errors import InvalidRequest, NotFound
from .store import MAX_CHAIN_DEPTH, ResponseStore

PARAM = "previous_response_id"


async def conversation(
    store: ResponseStore | None, tenant: str, previous_id: str | None
) -> list[ChatMessage]:
    """The messages before this request's input; [] without a previous response."""
    if previous_id is None:
        return []
    if store is None:
        raise _not_found(previous_id, previous_id)
    chain = await store.chain(tenant, previous_id, MAX_CHAIN_DEPTH)
    if chain.missing is not None:
        raise _not_found(chain.missing, previous_id)
    if chain.too_deep:
        raise InvalidRequest(
            f"The conversation that '{previous_id}' continues is longer than "
            f"{MAX_CHAIN_DEPTH} responses; start a new one with the context you need.",
            param=PARAM,
        )
    messages: list[ChatMessage] = []
    for turn in chain.entries:
        messages += turn.messages  # with the rounds before the latest, if it was continued
        start = turn.session.round_start if turn.session is not None else 0
        messages += translate.output_messages(turn.response["output"][start:])
    return messages


def _not_found(missing: str, asked: str) -> NotFound:
    message = f"Previous response with id '{missing}' not found."
    if missing != asked:
        message += (
            f" It is an earlier turn of the conversation that '{asked}' continues, and it was "
            "deleted or has expired."
        )
    return NotFound(message, param=PARAM, code="previous_response_not_found")
