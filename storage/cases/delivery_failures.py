"""A notice that cannot be delivered is reported to the secretaries, through the outbox.

The sender gives a notice up for good when Telegram refuses it (400), when the group moved to a
new chat id, when it cannot be rendered, or after MAX_ATTEMPTS tries. Each of these marks the
row failed and queues the report in the same transaction, so both happen or neither; the
report's dedup key names the failed row, so the row is reported once. A 403 (the person blocked
the bot) is their choice and is not reported; nor is a failed report (that would loop).
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.cases.notify import secretaries
from storage.models import Group, OutboxMessage
from storage.people import identities

logger = logging.getLogger(__name__)

KIND = "delivery_failed"
DETAIL_LENGTH = 200


class Reason(StrEnum):
    REFUSED = "refused"  # Telegram answered 400: it will never take this message
    MOVED = "moved"  # the group became a supergroup, with a new chat id
    UNRENDERABLE = "unrenderable"  # an unknown kind or a renderer's bug
    ATTEMPTS = "attempts"  # kept failing (5xx, timeouts) until the attempts ran out


async def fail(
    session: AsyncSession, *, message_id: int, error: str, reason: Reason, detail: str = ""
) -> int:
    """Give the notice up and report it; returns how many reports were queued."""
    await outbox.mark_failed(session, message_id=message_id, error=error)
    return await report(session, message_id=message_id, reason=reason, detail=detail)


async def retry_or_fail(
    session: AsyncSession,
    *,
    message_id: int,
    next_attempt_at: datetime,
    error: str,
    counts: bool = True,
) -> str:
    """outbox.mark_retry, and the report when that used up the last attempt; the new status."""
    status = await outbox.mark_retry(
        session, message_id=message_id, next_attempt_at=next_attempt_at, error=error, counts=counts
    )
    if status == outbox.Status.FAILED:
        await report(session, message_id=message_id, reason=Reason.ATTEMPTS)
    return status


async def report(
    session: AsyncSession, *, message_id: int, reason: Reason, detail: str = ""
) -> int:
    """Queue the report of a failed notice to every secretary but its own recipient: which
    case it was about, to whom (by name), and why. Returns how many were queued now."""
    message = await session.get(OutboxMessage, message_id)
    if message is None or message.kind == KIND:
        return 0
    everyone = await secretaries(session)
    reach = await outbox.addresses(session, resident_ids=[p.id for p in everyone if p.id])
    people = [
        person
        for person in everyone
        if not (
            (found := reach.get(person.id or 0)) is not None
            and (found.channel, found.external_id) == (message.channel, message.address)
        )
    ]
    if not people:
        logger.warning("outbox %d failed and there is no other secretary to tell", message_id)
        return 0
    case = message.params.get("case")
    params = {
        "about_case": case if isinstance(case, int) else None,
        "recipient": await recipient_name(session, message),
        "reason": str(reason),
        "detail": detail[:DETAIL_LENGTH],
        "attempts": message.attempts,
    }
    return await outbox.enqueue_each(
        session, to=people, kind=KIND, params=params, key=str(message_id)
    )


async def recipient_name(session: AsyncSession, message: OutboxMessage) -> str | None:
    """The person's name or the group's title, as the secretaries know them; None if unknown."""
    person = await identities.find_resident(
        session, channel=message.channel, external_id=message.address
    )
    if person is not None:
        return person.name or (f"@{person.username}" if person.username else None)
    if not message.address.lstrip("-").isdigit():
        return None
    query = select(Group).where(
        Group.channel == message.channel, Group.external_id == int(message.address)
    )
    group = (await session.exec(query)).first()
    return (group.title or None) if group is not None else None
