"""A whistle's timetable: the one reminder before the deadline, and the closing at it.

scheduler/whistles.py asks `due_whistles` every minute. The claims are conditional UPDATEs
(Whistle.reminded_at; status "closed"), made in the same transaction as the outbox rows they
cause, so the reminder goes once and a whistle closes once, whatever restarts or second
instances do. The reminder goes to private recipients still subscribed and reachable who have
neither answered nor written an opinion; never to groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.models import Group, OutboxMessage, Resident, utcnow
from storage.outbox import Status
from storage.people.residents import get_resident
from storage.whistle.models import Whistle, WhistleAnswer, WhistleDelivery, WhistleOpinion

# A whistle takes answers (and is reminded and closed) while in one of these.
TAKING_ANSWERS = ("sending", "open")
# The reminder goes a day before the deadline; a whistle open less than two days is reminded at
# three quarters of its time instead (a day before would be half-way or earlier).
REMIND_BEFORE = timedelta(hours=24)
SHORT = 2 * REMIND_BEFORE
CHUNK = 400  # rows per multi-row INSERT


def reminder_at(whistle: Whistle) -> datetime | None:
    """When the one reminder is due: 24 h before the deadline, or at 3/4 of a short whistle."""
    if whistle.deadline_at is None:
        return None
    span = whistle.deadline_at - (whistle.sent_at or whistle.created_at)
    return whistle.deadline_at - (REMIND_BEFORE if span >= SHORT else span / 4)


@dataclass(frozen=True)
class Due:
    remind: list[int] = field(default_factory=list)
    close: list[int] = field(default_factory=list)


async def due_whistles(session: AsyncSession, *, now: datetime) -> Due:
    """The whistles to close (deadline passed) and to remind (reminder time passed) at `now`.

    A whistle past its deadline is closed, not reminded: a late reminder would be useless.
    """
    query = select(Whistle).where(
        col(Whistle.status).in_(TAKING_ANSWERS), col(Whistle.deadline_at).is_not(None)
    )
    due = Due()
    for whistle in (await session.exec(query.order_by(col(Whistle.id)))).all():
        assert whistle.id is not None and whistle.deadline_at is not None
        if whistle.deadline_at <= now:
            due.close.append(whistle.id)
        elif whistle.reminded_at is None and (at := reminder_at(whistle)) and at <= now:
            due.remind.append(whistle.id)
    return due


async def claim_reminder(session: AsyncSession, *, whistle_id: int, now: datetime) -> bool:
    """Mark the reminder as sent; False if it was before (or the whistle is no longer open)."""
    return await _claim(
        session,
        whistle_id,
        col(Whistle.reminded_at).is_(None),
        col(Whistle.deadline_at) > now,
        reminded_at=now,
    )


async def claim_closing(session: AsyncSession, *, whistle_id: int, now: datetime) -> bool:
    """Close the whistle; False if it was closed (or cancelled) before."""
    return await _claim(session, whistle_id, status="closed", closed_at=now)


async def _claim(session: AsyncSession, whistle_id: int, *where: object, **values: object) -> bool:
    # A conditional UPDATE: on PostgreSQL a racing instance waits for the row lock and then
    # finds the condition false; on SQLite the writer lock serialises the two.
    statement = (
        update(Whistle)
        .where(
            col(Whistle.id) == whistle_id,
            col(Whistle.status).in_(TAKING_ANSWERS),
            *where,  # type: ignore[arg-type]
        )
        .values(**values)
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def claimed_whistle(session: AsyncSession, *, whistle_id: int) -> Whistle:
    """The whistle as its claim (reminder or closing) left it, read again from the database."""
    whistle = await session.get(Whistle, whistle_id, populate_existing=True)
    if whistle is None:
        raise LookupError(f"whistle {whistle_id} is gone")
    return whistle


async def results_recipients(session: AsyncSession, *, whistle: Whistle) -> list[Resident | Group]:
    """Who gets a closed whistle's results: the secretary who blew it and, if they chose so,
    the groups it went to (in id order)."""
    recipients: list[Resident | Group] = []
    secretary = await get_resident(session, resident_id=whistle.created_by_id)
    if secretary is not None:
        recipients.append(secretary)
    if whistle.results_to_groups:
        query = (
            select(Group)
            .join(WhistleDelivery, col(WhistleDelivery.group_id) == Group.id)
            .where(WhistleDelivery.whistle_id == whistle.id)
            .order_by(col(Group.id))
        )
        recipients += (await session.exec(query)).all()
    return recipients


async def responders(session: AsyncSession, *, whistle_id: int) -> set[int]:
    """Residents who answered by button or gave an opinion, in the audience or not."""
    answered = select(WhistleAnswer.resident_id).where(WhistleAnswer.whistle_id == whistle_id)
    opined = select(WhistleOpinion.resident_id).where(WhistleOpinion.whistle_id == whistle_id)
    found = set((await session.exec(answered)).all())
    return found | set((await session.exec(opined)).all())


async def reminder_targets(session: AsyncSession, *, whistle_id: int) -> list[Resident]:
    """Private recipients still subscribed and reachable who have not answered at all."""
    query = (
        select(Resident)
        .join(WhistleDelivery, col(WhistleDelivery.resident_id) == Resident.id)
        .outerjoin(OutboxMessage, col(OutboxMessage.id) == WhistleDelivery.outbox_id)
        .where(
            WhistleDelivery.whistle_id == whistle_id,
            col(Resident.subscribed_at).is_not(None),
            col(Resident.unreachable_at).is_(None),
            col(OutboxMessage.status).not_in([Status.UNREACHABLE, Status.FAILED])
            | col(OutboxMessage.id).is_(None),
        )
        .order_by(col(Resident.id))
    )
    done = await responders(session, whistle_id=whistle_id)
    return [r for r in (await session.exec(query)).all() if r.id not in done]


async def private_notice(session: AsyncSession, *, whistle_id: int) -> OutboxMessage | None:
    """The outbox row that carried the whistle to one subscriber: the reminder repeats it."""
    query = (
        select(OutboxMessage)
        .join(WhistleDelivery, col(WhistleDelivery.outbox_id) == OutboxMessage.id)
        .where(
            WhistleDelivery.whistle_id == whistle_id, col(WhistleDelivery.resident_id).is_not(None)
        )
    )
    return (await session.exec(query.order_by(col(OutboxMessage.id)).limit(1))).first()


async def queue_reminders(
    session: AsyncSession,
    *,
    whistle_id: int,
    targets: Sequence[Resident],
    kind: str,
    params: dict[str, Any],
) -> int:
    """One reminder row per target (dedup key "<kind>:<whistle>:<chat>"), in multi-row
    INSERTs, linked from the delivery (`reminder_outbox_id`) so a reply to the reminder is an
    opinion on the whistle and cancelling the whistle drops the unsent ones. Returns how many
    were queued now (not under the same key before)."""
    now = utcnow()
    queued = 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(targets), CHUNK):
        batch = targets[start : start + CHUNK]
        reach = await outbox.addresses(session, resident_ids=[p.id for p in batch if p.id])
        keys = {
            f"{kind}:{whistle_id}:{reach[p.id].external_id}": (p, reach[p.id])
            for p in batch
            if p.id in reach
        }
        rows = [
            {
                "channel": identity.channel,
                "address": identity.external_id,
                "lang": p.language,
                "kind": kind,
                "params": params,
                "dedup_key": key,
                "status": Status.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for key, (p, identity) in keys.items()
        ]
        statement = insert(OutboxMessage).values(rows)
        statement = statement.on_conflict_do_nothing(index_elements=["dedup_key"])
        inserted = await session.exec(statement)
        queued += int(inserted.rowcount)
        query = select(OutboxMessage.address, OutboxMessage.id).where(
            col(OutboxMessage.dedup_key).in_(list(keys))
        )
        links = [
            {"chat": int(chat), "reminder": message_id}
            for chat, message_id in (await session.exec(query)).all()
        ]
        deliveries = WhistleDelivery.__table__  # type: ignore[attr-defined]
        link = (
            update(deliveries)
            .where(deliveries.c.whistle_id == whistle_id, deliveries.c.chat_id == bindparam("chat"))
            .values(reminder_outbox_id=bindparam("reminder"))
        )
        if links:
            await session.exec(link, params=links)
    await session.flush()
    return queued
