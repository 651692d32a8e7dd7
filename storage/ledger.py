"""The scheduler's ledger: each job claims each of its periods once, whatever happens.

A job claims its period in the same transaction as the work it does for it (the outbox rows it
queues), so a crash before the commit leaves neither, and a restart, a missed run caught up
later or a second instance finds the claim and does nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import JobRun, utcnow

logger = logging.getLogger(__name__)


async def claim_run(session: AsyncSession, *, job: str, period: str) -> bool:
    """True if this transaction claimed (job, period); False if it was claimed before.

    INSERT ... ON CONFLICT DO NOTHING: on PostgreSQL a second instance racing for the same row
    waits for the first one's transaction and then sees the conflict; on SQLite the writer lock
    (BEGIN IMMEDIATE) serialises them.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(JobRun)
        .values(job=job, period=period, claimed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["job", "period"])
    )
    result = await session.exec(statement)
    claimed = bool(result.rowcount)
    if not claimed:
        logger.debug("%s for %s was claimed before", job, period)
    return claimed


async def was_claimed(session: AsyncSession, *, job: str, period: str) -> bool:
    """Whether (job, period) is in the ledger (a read, for reports and tests)."""
    query = select(JobRun).where(JobRun.job == job, JobRun.period == period)
    return (await session.exec(query)).first() is not None
