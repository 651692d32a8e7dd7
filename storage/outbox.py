"""The outbox: every message that is not a direct reply is a row here first.

Rows are written in the same transaction as the change that caused them, with a dedup key,
so a retried transaction or a repeated update never queues a notice twice. The one sender
(bot/telegram/sender.py) claims due rows, sends them under Telegram's limits and records the
outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Group, Identity, OutboxMessage, Resident, utcnow

logger = logging.getLogger(__name__)


class Status:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after too many attempts
    UNREACHABLE = "unreachable"  # the person blocked the bot


# Channels whose people ask for news instead of being sent it: an Open311 client reads a
# case's status by polling the API. No sender drains them, so a row would wait for ever.
POLLING_CHANNELS = frozenset({"open311"})


async def enqueue(
    session: AsyncSession,
    *,
    to: Resident | Group,
    kind: str,
    params: dict[str, Any],
    dedup_key: str,
    lang: str | None = None,
    not_before: datetime | None = None,
    leased_until: datetime | None = None,
) -> bool:
    """Queue one notice; False if one with this dedup key was queued before, or if the
    recipient's channel is one that polls (nothing is sent there). A notice `leased_until` is
    left alone by every sender until then (its writer sends it itself: enqueue_reply)."""
    if isinstance(to, Group):
        channel, address = to.channel, str(to.external_id)
    else:
        assert to.id is not None
        identity = (await addresses(session, resident_ids=[to.id])).get(to.id)
        if identity is None:
            logger.warning("resident %s has no identity to send %s to", to.id, kind)
            return False
        channel, address = identity.channel, identity.external_id
    if channel in POLLING_CHANNELS:
        return False
    language = lang or (to.language if isinstance(to, Resident) else "zh")
    insert = pg_insert if _is_postgres(session) else sqlite_insert
    now = utcnow()
    statement = (
        insert(OutboxMessage)
        .values(
            channel=channel,
            address=address,
            lang=language,
            kind=kind,
            params=params,
            dedup_key=dedup_key[:200],
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=not_before or now,
            leased_until=leased_until,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def addresses(session: AsyncSession, *, resident_ids: Collection[int]) -> dict[int, Identity]:
    """Where a notice to each resident goes: their first identity (storage/people/identities.py
    keeps them). A resident with none yet is left out."""
    if not resident_ids:
        return {}
    query = (
        select(Identity)
        .where(col(Identity.resident_id).in_(list(set(resident_ids))))
        .order_by(col(Identity.id).desc())
    )
    return {identity.resident_id: identity for identity in (await session.exec(query)).all()}


async def enqueue_reply(
    session: AsyncSession,
    *,
    to: Resident | Group,
    kind: str,
    params: dict[str, Any],
    dedup_key: str,
    lang: str,
    lease: timedelta,
) -> OutboxMessage | None:
    """Queue a reply that its handler sends itself once the transaction has committed.

    It is leased from the start, so no sender takes it meanwhile; if the process dies before
    sending it, a sender does when the lease runs out. None if the key was queued before.
    """
    queued = await enqueue(
        session, to=to, kind=kind, params=params, dedup_key=dedup_key, lang=lang,
        leased_until=utcnow() + lease,
    )  # fmt: skip
    if not queued:
        return None
    statement = select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key[:200])
    return (await session.exec(statement)).one()


async def enqueue_each(
    session: AsyncSession,
    *,
    to: Sequence[Resident | Group],
    kind: str,
    params: dict[str, Any],
    key: str,
) -> int:
    """Queue the same notice to each of `to`; dedup keys `kind:key:<id>` (groups `g<id>`).

    Returns how many were queued now (not before, under the same key)."""
    queued = 0
    for person in to:
        prefix = "g" if isinstance(person, Group) else ""
        dedup_key = f"{kind}:{key}:{prefix}{person.id}"
        queued += await enqueue(session, to=person, kind=kind, params=params, dedup_key=dedup_key)
    return queued


async def was_queued(session: AsyncSession, *, dedup_key: str) -> bool:
    """Whether a notice under this dedup key was ever queued (sent or not)."""
    query = select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key[:200])
    return (await session.exec(query)).first() is not None


# A notice that still fails after this many tries is given up (FAILED) rather than retried
# forever; 429s do not count, since flood control says "later", not "never".
MAX_ATTEMPTS = 8
ERROR_LENGTH = 300


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    channel: str = "telegram",
    skip_chats: Collection[str] = (),
) -> list[OutboxMessage]:
    """Lease the due notices at the head of each chat's queue, oldest first.

    Only a chat's oldest pending notice can be claimed, so a chat's notices go out in id order
    even with a retry waiting or a second sender running. `skip_chats` are chats the caller
    knows it may not send to yet (flood control): leaving them out keeps one busy chat from
    filling the batch.
    """
    heads = (
        select(func.min(OutboxMessage.id))
        .where(OutboxMessage.status == Status.PENDING, OutboxMessage.channel == channel)
        .group_by(col(OutboxMessage.address))
    )
    statement = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(heads),
            OutboxMessage.next_attempt_at <= now,
            or_(col(OutboxMessage.leased_until).is_(None), col(OutboxMessage.leased_until) < now),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    if skip_chats:
        statement = statement.where(col(OutboxMessage.address).not_in(list(skip_chats)))
    if _is_postgres(session):
        # A second sender skips the rows this one is leasing instead of waiting for them; on
        # SQLite the writer lock in session_scope already serialises claims.
        statement = statement.with_for_update(skip_locked=True)
    messages = list((await session.exec(statement)).all())
    for message in messages:
        message.leased_until = now + lease
        session.add(message)
    await session.flush()
    return messages


async def release(session: AsyncSession, *, message_ids: Collection[int]) -> None:
    """Give back claimed notices that were not attempted, so the next round takes them."""
    if message_ids:
        await _update(
            session,
            col(OutboxMessage.id).in_(list(message_ids)),
            col(OutboxMessage.status) == Status.PENDING,
            leased_until=None,
        )


async def mark_sent(session: AsyncSession, *, message_id: int, sent_message_id: int | None) -> None:
    await _update(
        session,
        col(OutboxMessage.id) == message_id,
        status=Status.SENT,
        sent_at=utcnow(),
        sent_message_id=sent_message_id,
        leased_until=None,
    )


async def mark_failed(session: AsyncSession, *, message_id: int, error: str) -> None:
    """Give up on a notice that cannot succeed (bad request, unknown kind)."""
    await _update(
        session,
        col(OutboxMessage.id) == message_id,
        status=Status.FAILED,
        last_error=error[:ERROR_LENGTH],
        leased_until=None,
    )


async def mark_retry(
    session: AsyncSession,
    *,
    message_id: int,
    next_attempt_at: datetime,
    error: str,
    counts: bool = True,
) -> str:
    """Try again at `next_attempt_at`; returns the new status (FAILED after MAX_ATTEMPTS).

    `counts=False` (flood control) postpones without using up an attempt.
    """
    message = await session.get(OutboxMessage, message_id)
    if message is None or message.status != Status.PENDING:
        return message.status if message else Status.FAILED
    if counts:
        message.attempts += 1
    message.last_error = error[:ERROR_LENGTH]
    message.leased_until = None
    message.next_attempt_at = next_attempt_at
    if message.attempts >= MAX_ATTEMPTS:
        message.status = Status.FAILED
    session.add(message)
    await session.flush()
    return message.status


async def mark_unreachable(
    session: AsyncSession, *, message_id: int, error: str, now: datetime | None = None
) -> int:
    """The recipient blocked the bot: note it on the resident and stop every pending notice
    to that chat. Returns how many notices were closed."""
    message = await session.get(OutboxMessage, message_id)
    if message is None:
        return 0
    now = now or utcnow()
    holder = select(Identity.resident_id).where(
        Identity.channel == message.channel, Identity.external_id == message.address
    )
    await session.exec(
        update(Resident)
        .where(col(Resident.id).in_(holder), col(Resident.unreachable_at).is_(None))
        .values(unreachable_at=now)
    )
    closed = await _update(
        session,
        or_(
            col(OutboxMessage.id) == message_id,
            and_(
                col(OutboxMessage.channel) == message.channel,
                col(OutboxMessage.address) == message.address,
                col(OutboxMessage.status) == Status.PENDING,
            ),
        ),
        status=Status.UNREACHABLE,
        last_error=error[:ERROR_LENGTH],
        leased_until=None,
    )
    return closed


async def skip_unreachable(
    session: AsyncSession, *, messages: Sequence[OutboxMessage]
) -> list[OutboxMessage]:
    """Close, without sending, claimed notices to residents already known to have blocked us.

    Returns the notices that are still to be sent.
    """
    by_chat = {(m.channel, m.address) for m in messages}
    if not by_chat:
        return list(messages)
    statement = (
        select(Identity.channel, Identity.external_id)
        .join(Resident, col(Resident.id) == col(Identity.resident_id))
        .where(
            col(Identity.external_id).in_([chat for _, chat in by_chat]),
            col(Resident.unreachable_at).is_not(None),
        )
    )
    blocked = {(channel, chat) for channel, chat in (await session.exec(statement)).all()}
    for message in messages:
        if (message.channel, message.address) in blocked and message.id is not None:
            await mark_unreachable(
                session, message_id=message.id, error="recipient had blocked the bot"
            )
    return [m for m in messages if (m.channel, m.address) not in blocked]


async def backlog(session: AsyncSession) -> dict[str, int]:
    """How many notices are in each status (every status present, zero if none)."""
    statement = select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    counts = dict.fromkeys((Status.PENDING, Status.SENT, Status.FAILED, Status.UNREACHABLE), 0)
    for status, count in (await session.exec(statement)).all():
        counts[status] = count
    return counts


async def last_id(session: AsyncSession) -> int:
    """The highest outbox row id so far (0 when empty)."""
    return (await session.exec(select(func.max(OutboxMessage.id)))).one() or 0


async def discard_after(session: AsyncSession, *, message_id: int) -> None:
    """Drop every notice queued after row `message_id`, sent or not (the sandbox's seeding:
    what its demo actions queued was "delivered" in the past it pretends)."""
    await session.exec(delete(OutboxMessage).where(col(OutboxMessage.id) > message_id))
    await session.flush()


async def last_sent_messages(session: AsyncSession) -> dict[str, int]:
    """The highest message id the channel gave a notice sent to each chat (by address)."""
    statement = select(OutboxMessage.address, func.max(OutboxMessage.sent_message_id)).group_by(
        col(OutboxMessage.address)
    )
    return {chat: top for chat, top in (await session.exec(statement)).all() if top is not None}


async def _update(session: AsyncSession, *where: Any, **values: Any) -> int:
    statement = update(OutboxMessage).where(*where).values(**values)
    result = await session.exec(statement)
    return int(result.rowcount)
