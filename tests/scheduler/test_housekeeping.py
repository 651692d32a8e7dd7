from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.config import load_settings
from scheduler.core import JobContext
from scheduler.housekeeping import forget_handled_updates
from storage.db import session_scope
from storage.models import ProcessedUpdate, utcnow
from storage.updates import KEEP, claim_update


async def test_old_ledger_rows_are_forgotten_and_recent_ones_kept(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        assert await claim_update(s, bot_id=1, update_id=10)
        assert not await claim_update(s, bot_id=1, update_id=10)
        s.add(ProcessedUpdate(bot_id=1, update_id=5, at=utcnow() - KEEP - timedelta(hours=1)))
    await forget_handled_updates(JobContext(engine=engine, settings=load_settings()))
    async with session_scope(engine) as s:
        kept = [row.update_id for row in (await s.exec(select(ProcessedUpdate))).all()]
    assert kept == [10]
