"""The deadline sweep job: reminders at 80%, escalation when overdue, auto-close after 7 days."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from scheduler.core import JobContext, Scheduler
from storage.cases import deadlines
from storage.db import session_scope
from storage.models import utcnow

logger = logging.getLogger(__name__)

EVERY = timedelta(minutes=5)


async def sweep_deadlines(context: JobContext) -> None:
    """One sweep in one transaction; the stamps it writes make a repeat run a no-op."""
    now = utcnow()
    async with session_scope(context.engine) as session:
        result = await deadlines.sweep(
            session, now=now, local_today=datetime.now(context.settings.tz).date()
        )
    if result.reminded or result.escalated or result.closed:
        logger.info(
            "deadline sweep: %d reminded, %d escalated, %d closed; %d notices",
            result.reminded,
            result.escalated,
            result.closed,
            result.notices,
        )
    if result.notices:
        context.wake()


def schedule_deadline_sweep(scheduler: Scheduler) -> None:
    scheduler.every(
        sweep_deadlines, name="deadline-sweep", interval=EVERY, first=timedelta(seconds=30)
    )
