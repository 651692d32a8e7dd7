"""Housekeeping jobs: keep the ledger of handled updates from growing without end."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.runtime import runtime
from storage.db import session_scope
from storage.updates import forget_old_updates

logger = logging.getLogger(__name__)

EVERY = timedelta(hours=6)


async def forget_handled_updates(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop ledger rows older than Telegram could ever redeliver (idempotent, any instance)."""
    async with session_scope(runtime(context.bot_data).engine) as session:
        removed = await forget_old_updates(session)
    if removed:
        logger.info("forgot %d handled updates", removed)


def schedule_housekeeping(app: Application) -> None:
    assert app.job_queue is not None, "python-telegram-bot[job-queue] is a dependency"
    app.job_queue.run_repeating(
        forget_handled_updates, interval=EVERY, first=timedelta(minutes=1), name="housekeeping"
    )
