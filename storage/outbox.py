"""The outbox: every message that is not a direct reply is a row here first.

Rows are written in the same transaction as the change that caused them, with a dedup key,
so a retried transaction or a repeated update never queues a notice twice. The one sender
(bot/outbox.py) claims due rows, sends them under Telegram's limits and records the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Group, OutboxMessage, Resident, utcnow


class Status:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after too many attempts
    UNREACHABLE = "unreachable"  # the person blocked the bot


async def enqueue(
    session: AsyncSession,
    *,
    to: Resident | Group,
    kind: str,
    params: dict[str, Any],
    dedup_key: str,
    lang: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue one notice; False if a notice with this dedup key was queued before."""
    language = lang or (to.language if isinstance(to, Resident) else "zh")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = (
        insert(OutboxMessage)
        .values(
            channel=to.channel,
            chat_id=to.external_id,
            lang=language,
            kind=kind,
            params=params,
            dedup_key=dedup_key[:200],
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=not_before or now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return bool(result.rowcount)
