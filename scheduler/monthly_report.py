"""The monthly report: last month's figures to every secretary, once, early on the 1st.

The job runs every day at 08:00 local time (and once shortly after start-up) and asks the ledger
for the previous month. The first run that finds the month unclaimed, normally the 1st's,
claims it and queues the notices in the same transaction; a bot that was down on the 1st
catches up on its next run, and a restart or a second instance finds the claim and does
nothing. A month is not claimed while nobody holds the secretary role, so appointing the
first secretary later in the month still delivers it.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.core import JobContext, Scheduler
from storage import outbox
from storage.cases.disputes import dispute_figures
from storage.cases.notify import secretaries
from storage.db import session_scope
from storage.figures.stats import figures
from storage.figures.summary import MONTHLY_REPORT, report_params, summarise
from storage.ledger import claim_run
from storage.models import utcnow
from storage.periods import previous_month

logger = logging.getLogger(__name__)

JOB = MONTHLY_REPORT
AT = time(8, 0)  # local time: the start of the office's working day


async def queue_monthly_report(engine: AsyncEngine, *, now: datetime, tz: ZoneInfo) -> int | None:
    """Claim the month before `now` (local) and queue its report to every secretary.

    Returns how many notices were queued, or None when the month was reported before (or
    there is no secretary yet, in which case it is left unclaimed for a later run).
    """
    period = previous_month(now.astimezone(tz).date(), tz)
    async with session_scope(engine) as session:
        people = await secretaries(session)
        if not people:
            logger.warning("monthly report for %s waits: nobody is a secretary", period.label)
            return None
        if not await claim_run(session, job=JOB, period=period.label):
            return None
        found = await figures(session, period=period, now=now)
        disputes = await dispute_figures(session, start=period.start, end=period.end)
        params = report_params(period.label, summarise(found, disputes))
        queued = await outbox.enqueue_each(
            session, to=people, kind=MONTHLY_REPORT, params=params, key=period.label
        )
    logger.info(
        "monthly report for %s queued for %d of %d secretaries", period.label, queued, len(people)
    )
    return queued


async def monthly_report(context: JobContext) -> None:
    """The job: one claim attempt, then wake the sender if anything was queued."""
    queued = await queue_monthly_report(context.engine, now=utcnow(), tz=context.settings.tz)
    if queued:
        context.wake()


def schedule_monthly_report(scheduler: Scheduler) -> None:
    """Daily at 08:00 in the estate's time zone (every day: that is how a missed 1st is caught
    up), and once soon after start-up, so a bot that was down at 08:00 does not wait a day."""
    scheduler.daily(monthly_report, name="monthly-report", at=AT)
    after_start = timedelta(seconds=scheduler.context.settings.catch_up_after)
    scheduler.once(monthly_report, name="monthly-report-catch-up", after=after_start)
