"""Housekeeping jobs: keep the ledger of handled updates from growing without end."""

from __future__ import annotations

import logging
from datetime import timedelta

from scheduler.core import JobContext, Scheduler
from storage.db import session_scope
from storage.updates import forget_old_updates

logger = logging.getLogger(__name__)

EVERY = timedelta(hours=6)


async def forget_handled_updates(context: JobContext) -> None:
    """Drop ledger rows older than Telegram could ever redeliver (idempotent, any instance)."""
    async with session_scope(context.engine) as session:
        removed = await forget_old_updates(session)
    if removed:
        logger.info("forgot %d handled updates", removed)


def schedule_housekeeping(scheduler: Scheduler) -> None:
    scheduler.every(
        forget_handled_updates, name="housekeeping", interval=EVERY, first=timedelta(minutes=1)
    )
