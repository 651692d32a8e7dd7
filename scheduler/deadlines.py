"""The deadline sweep job: reminders at 80%, escalation when overdue, auto-close after 7 days."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram.ext import Application, ContextTypes

from bot.runtime import runtime
from storage import deadlines
from storage.db import session_scope
from storage.models import utcnow

logger = logging.getLogger(__name__)

EVERY = timedelta(minutes=5)


async def sweep_deadlines(context: ContextTypes.DEFAULT_TYPE) -> None:
    """One sweep in one transaction; the stamps it writes make a repeat run a no-op."""
    rt = runtime(context.bot_data)
    now = utcnow()
    async with session_scope(rt.engine) as session:
        result = await deadlines.sweep(
            session, now=now, local_today=datetime.now(rt.settings.tz).date()
        )
    if result.reminded or result.escalated or result.closed:
        logger.info(
            "deadline sweep: %d reminded, %d escalated, %d closed; %d notices",
            result.reminded,
            result.escalated,
            result.closed,
            result.notices,
        )
    if result.notices and rt.sender is not None:
        rt.sender.wake()


def schedule_deadline_sweep(app: Application) -> None:
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        sweep_deadlines, interval=EVERY, first=timedelta(seconds=30), name="deadline-sweep"
    )
