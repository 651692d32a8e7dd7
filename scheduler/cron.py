"""Cron jobs in the estate's time zone whose runs claim their periods: the common wiring.

A job's work is `work(engine, *, now, settings) -> int | None` (how many notices it queued):
it works out which period is due at `now` and claims it in the ledger (storage/ledger.py) in
the same transaction as its outbox rows, so running it again, late or from a second instance
is harmless. `schedule_cron` therefore runs it on its cron trigger in Settings.tz, once soon
after start-up (a run missed while the bot was down is made up then), and again a little
later when a run fails (the database was away), instead of waiting for the next period.
`describe_jobs` is what `yishi schedule` prints: every scheduled job and its next run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.core import Job, JobContext, JobSettings, Scheduler
from storage.models import utcnow

logger = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=15)
# APScheduler skips a run that starts more than a second late (a busy loop, a suspended VM);
# the ledger makes a late run harmless, so a late run should still happen.
MISFIRE_GRACE = timedelta(hours=6)


class Work(Protocol):
    def __call__(
        self, engine: AsyncEngine, *, now: datetime, settings: JobSettings
    ) -> Awaitable[int | None]: ...


def job_callback(scheduler: Scheduler, name: str, work: Work) -> Job:
    """The job for `work`: one attempt at the current period, a retry on error."""

    async def run(context: JobContext) -> None:
        try:
            queued = await work(context.engine, now=utcnow(), settings=context.settings)
        except Exception:
            logger.exception("%s failed; trying again in %s", name, RETRY_AFTER)
            if not scheduler.has(f"{name}-retry"):
                scheduler.once(run, name=f"{name}-retry", after=RETRY_AFTER)
            return
        if queued:
            logger.info("%s queued %d notices", name, queued)
            context.wake()

    return run


def schedule_cron(scheduler: Scheduler, *, name: str, work: Work, **cron: Any) -> None:
    """Run `work` on the cron fields `cron` (APScheduler's: day_of_week="mon", hour=9, ...) in
    the configured time zone, and once soon after start-up (YISHI_CATCH_UP_AFTER) to catch up."""
    run = job_callback(scheduler, name, work)
    trigger = CronTrigger(timezone=scheduler.tz, **cron)
    scheduler.add(run, name=name, trigger=trigger, misfire_grace=MISFIRE_GRACE)
    after_start = timedelta(seconds=scheduler.context.settings.catch_up_after)
    scheduler.once(run, name=f"{name}-catch-up", after=after_start)


@dataclass(frozen=True)
class JobLine:
    name: str
    trigger: str
    next_run: datetime | None  # local time; None if it will not run again


def describe_jobs(scheduler: Scheduler, *, now: datetime, tz: ZoneInfo) -> list[JobLine]:
    """Every scheduled job with its trigger and next run after `now`, soonest first. Works
    before the scheduler starts (APScheduler has not yet computed next run times then, so
    they are asked of the triggers)."""
    lines = []
    for job in scheduler.jobs():
        trigger = job.trigger
        following = trigger.get_next_fire_time(None, now.astimezone(tz))
        described = "once" if isinstance(trigger, DateTrigger) else str(trigger)
        lines.append(
            JobLine(job.name or "?", described, following.astimezone(tz) if following else None)
        )
    return sorted(lines, key=lambda line: (line.next_run is None, line.next_run, line.name))


def format_jobs(lines: list[JobLine], tz: ZoneInfo) -> str:
    """The table `yishi schedule` prints."""
    name_width = max([len("JOB"), *(len(line.name) for line in lines)])
    trigger_width = max([len("TRIGGER"), *(len(line.trigger) for line in lines)])
    rows = [f"{'JOB':<{name_width}}  {'TRIGGER':<{trigger_width}}  NEXT RUN ({tz.key})"]
    for line in lines:
        when = line.next_run.strftime("%Y-%m-%d %H:%M:%S") if line.next_run else "-"
        rows.append(f"{line.name:<{name_width}}  {line.trigger:<{trigger_width}}  {when}")
    return "\n".join(rows)
