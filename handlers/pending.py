"""A private message that answers what the bot asked for: each feature registers the answerer
of the kinds it awaits (a note on a case, a whistle opinion, a proposal's text, ...)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.conversation import Reply, Speaker, Turn
from storage.models import PendingInput

Answerer = Callable[[AsyncSession, Speaker, PendingInput, Turn], Awaitable[Sequence[Reply]]]
ANSWERERS: dict[str, Answerer] = {}


def answers(kind: str) -> Callable[[Answerer], Answerer]:
    """Register the answerer of a pending kind: it applies the message and returns the
    replies (words, and buttons where wanted), sent once the transaction has committed."""

    def register(answerer: Answerer) -> Answerer:
        ANSWERERS[kind] = answerer
        return answerer

    return register


async def answer_pending(
    session: AsyncSession, who: Speaker, pending: PendingInput, turn: Turn
) -> list[Reply]:
    """Apply the awaited input; an unusable message asks again instead of being lost."""
    return list(await ANSWERERS[pending.kind](session, who, pending, turn))
