"""Queuing a whistle for its whole audience at once, and counting how its delivery stands.

A whistle may go to ten thousand subscribers; one INSERT per row would hold the (SQLite)
writer lock for seconds, so rows go in multi-row INSERTs of a few hundred. The outbox rows are
exactly what `storage.outbox.enqueue` writes (same columns, dedup key "whistle:<id>:<chat>",
ON CONFLICT DO NOTHING), so the one sender treats them like any other notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.models import Group, OutboxMessage, Resident, utcnow
from storage.outbox import Status
from storage.people import identities
from storage.people.residents import get_resident
from storage.whistle.models import Whistle, WhistleDelivery

CHUNK = 400  # rows per INSERT: well under both databases' limits on bound parameters


def dedup_key(whistle_id: int, chat_id: int) -> str:
    return f"whistle:{whistle_id}:{chat_id}"


async def queue_deliveries(
    session: AsyncSession,
    *,
    whistle: Whistle,
    groups: Sequence[Group],
    residents: Sequence[Resident],
    params: dict[str, Any],
    kind: str,
) -> int:
    """One delivery and one outbox row per recipient (groups first: they post slowest)."""
    assert whistle.id is not None
    recipients: dict[int, tuple[Group | Resident, str]] = {}
    for group in groups:
        recipients.setdefault(group.external_id, (group, "zh"))
    # Deliveries are still counted by Telegram chat id (a number): a resident is reached at
    # their first identity while it is a Telegram one (WeCom whistles come with that channel).
    reach = await outbox.addresses(session, resident_ids=[p.id for p in residents if p.id])
    for person in residents:
        identity = reach.get(person.id or 0)
        if identity is not None and identity.channel == identities.TELEGRAM:
            recipients.setdefault(int(identity.external_id), (person, person.language))
    chats = list(recipients)
    for start in range(0, len(chats), CHUNK):
        batch = chats[start : start + CHUNK]
        await _queue_notices(session, whistle.id, batch, recipients, params, kind)
        carriers = await _carrier_ids(session, whistle.id, batch)
        rows = []
        for chat in batch:
            to = recipients[chat][0]
            is_group = isinstance(to, Group)
            rows.append(
                {
                    "whistle_id": whistle.id,
                    "resident_id": None if is_group else to.id,
                    "group_id": to.id if is_group else None,
                    "chat_id": chat,
                    "outbox_id": carriers[chat],
                    "reminder_outbox_id": None,
                }
            )
        await session.exec(insert(WhistleDelivery).values(rows))
    await session.flush()
    return len(chats)


async def _queue_notices(
    session: AsyncSession,
    whistle_id: int,
    chats: list[int],
    recipients: dict[int, tuple[Group | Resident, str]],
    params: dict[str, Any],
    kind: str,
) -> None:
    now = utcnow()
    rows = []
    for chat in chats:
        to, lang = recipients[chat]
        rows.append(
            {
                "channel": to.channel,
                "address": str(chat),
                "lang": lang,
                "kind": kind,
                "params": {**params, "group": isinstance(to, Group)},
                "dedup_key": dedup_key(whistle_id, chat),
                "status": Status.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(OutboxMessage)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    await session.exec(statement)


async def _carrier_ids(session: AsyncSession, whistle_id: int, chats: list[int]) -> dict[int, int]:
    keys = [dedup_key(whistle_id, chat) for chat in chats]
    query = select(OutboxMessage.address, OutboxMessage.id).where(
        col(OutboxMessage.dedup_key).in_(keys)
    )
    return {
        int(chat): message_id
        for chat, message_id in (await session.exec(query)).all()
        if message_id
    }


@dataclass(frozen=True)
class DeliveryCounts:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0  # the recipient blocked the bot (403): not retried

    @property
    def pending(self) -> int:
        return self.queued - self.sent - self.failed - self.blocked


async def delivery_counts(session: AsyncSession, *, whistle_id: int) -> DeliveryCounts:
    """How the whistle's own notices (not reminders) stand in the outbox."""
    statement = (
        select(OutboxMessage.status, func.count())
        .join(WhistleDelivery, col(WhistleDelivery.outbox_id) == OutboxMessage.id)
        .where(WhistleDelivery.whistle_id == whistle_id)
        .group_by(col(OutboxMessage.status))
    )
    by_status = dict((await session.exec(statement)).all())
    return DeliveryCounts(
        queued=sum(by_status.values()),
        sent=by_status.get(Status.SENT, 0),
        failed=by_status.get(Status.FAILED, 0),
        blocked=by_status.get(Status.UNREACHABLE, 0),
    )


async def report_reader(session: AsyncSession, *, whistle: Whistle) -> Resident | None:
    """The secretary whose private chat holds the whistle's live delivery report; None when
    the report is elsewhere (it is then not kept up to date)."""
    secretary = await get_resident(session, resident_id=whistle.created_by_id)
    if secretary is None or secretary.id is None or whistle.report_chat_id is None:
        return None
    holders = await identities.resident_ids_at(
        session, channel=identities.TELEGRAM, external_ids=[str(whistle.report_chat_id)]
    )
    return secretary if holders.get(str(whistle.report_chat_id)) == secretary.id else None


async def whistles_with_reports(session: AsyncSession, *, since: datetime) -> list[Whistle]:
    """Whistles sent since `since` that have a live delivery report to keep up to date."""
    query = select(Whistle).where(
        col(Whistle.status) != "draft",
        col(Whistle.sent_at) >= since,
        col(Whistle.report_message_id).is_not(None),
    )
    return list((await session.exec(query.order_by(col(Whistle.id)))).all())
