"""The ledger of handled updates: Telegram may deliver one twice, we act once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ProcessedUpdate, utcnow

KEEP = timedelta(days=3)  # Telegram keeps unconfirmed updates for 24 hours


async def claim_update(session: AsyncSession, *, bot_id: int, update_id: int) -> bool:
    """True the first time an update is seen, in this transaction; False for a repeat."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(ProcessedUpdate)
        .values(bot_id=bot_id, update_id=update_id, at=utcnow())
        .on_conflict_do_nothing()
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def last_update_id(session: AsyncSession) -> int:
    """The highest update id handled so far (0 when none)."""
    return (await session.exec(select(func.max(ProcessedUpdate.update_id)))).one() or 0


async def forget_old_updates(session: AsyncSession) -> int:
    statement = delete(ProcessedUpdate).where(col(ProcessedUpdate.at) < utcnow() - KEEP)
    result = await session.exec(statement)
    return int(result.rowcount)
