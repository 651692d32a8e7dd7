"""The scheduler: APScheduler's AsyncIOScheduler in the estate's time zone, running our jobs.

A job is `async def job(context: JobContext) -> None`. Its context is all it gets: the
database engine, the few settings jobs read, and `wake()`, which tells the outbox sender that
rows were queued. Jobs write outbox rows and return; they never talk to a channel. The bot
(bot/telegram/app.py) builds the scheduler, starts it in its own event loop once it runs, and stops
it
when it stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.job import Job as ScheduledJob
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.deliberation.meeting_calendar import MeetingPlan

logger = logging.getLogger(__name__)

# Spelled out (not "*"), as `yishi schedule` has always shown a daily job.
EVERY_DAY = "sun,mon,tue,wed,thu,fri,sat"


class JobSettings(Protocol):
    """The settings jobs read (bot/config.py: Settings has them all)."""

    @property
    def timezone(self) -> str: ...
    @property
    def tz(self) -> ZoneInfo: ...
    @property
    def default_language(self) -> str: ...
    @property
    def catch_up_after(self) -> float: ...
    @property
    def meeting_plan(self) -> MeetingPlan: ...


def _nobody_to_wake() -> None:
    return None


@dataclass(frozen=True)
class JobContext:
    engine: AsyncEngine
    settings: JobSettings
    wake: Callable[[], None] = _nobody_to_wake  # after a transaction that queued notices


Job = Callable[[JobContext], Awaitable[None]]


class Scheduler:
    """Jobs by name on APScheduler triggers in the configured time zone.

    APScheduler's defaults hold: a run that is late by more than a second is skipped unless
    the job says otherwise (`misfire_grace`), late runs coalesce into one, and a job never runs
    twice at once.
    """

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.tz = context.settings.tz
        self._aps = AsyncIOScheduler(
            timezone=self.tz, job_defaults={"coalesce": True, "max_instances": 1}
        )
        self._running: dict[asyncio.Task[object], str] = {}  # the runs in progress, by name
        self._stopped = False

    def every(self, job: Job, *, name: str, interval: timedelta, first: timedelta) -> None:
        """Every `interval`, the first time `first` from now."""
        start = datetime.now(self.tz) + first
        seconds = interval.total_seconds()
        self.add(job, name=name, trigger=IntervalTrigger(seconds=seconds, start_date=start))

    def daily(self, job: Job, *, name: str, at: time) -> None:
        """Every day at local time `at`."""
        trigger = CronTrigger(
            day_of_week=EVERY_DAY,
            hour=at.hour,
            minute=at.minute,
            second=at.second,
            timezone=self.tz,
        )
        self.add(job, name=name, trigger=trigger)

    def once(self, job: Job, *, name: str, after: timedelta) -> None:
        """Once, `after` from now."""
        self.add(job, name=name, trigger=DateTrigger(datetime.now(self.tz) + after))

    def add(
        self, job: Job, *, name: str, trigger: BaseTrigger, misfire_grace: timedelta | None = None
    ) -> None:
        """`job` on `trigger`; names are unique (a job is looked up by its name)."""
        if self.has(name):
            raise ValueError(f"a job named {name!r} is scheduled already")
        grace = {"misfire_grace_time": int(misfire_grace.total_seconds())} if misfire_grace else {}
        self._aps.add_job(self._run, trigger, args=(name, job), id=name, name=name, **grace)

    def has(self, name: str) -> bool:
        return self._aps.get_job(name) is not None

    def jobs(self) -> list[ScheduledJob]:
        """Every scheduled job (before the start too: then none has its next run time yet)."""
        return list(self._aps.get_jobs())

    def job(self, name: str) -> ScheduledJob:
        found = self._aps.get_job(name)
        if found is None:
            raise KeyError(name)
        return found

    async def fire(self, name: str) -> None:
        """Run the job `name` now, outside its schedule (tests; its errors are raised)."""
        _, job = self.job(name).args
        await job(self.context)

    async def _run(self, name: str, job: Job) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running[task] = name
        try:
            await job(self.context)
        except Exception:
            logger.exception("job %s failed", name)
        except asyncio.CancelledError:
            if not self._stopped:
                raise
            logger.warning("job %s cancelled: the bot is stopping", name)
        finally:
            if task is not None:
                self._running.pop(task, None)

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    def start(self) -> None:
        """Start in the running event loop (the bot's): jobs run there."""
        if not self._aps.running and not self._stopped:
            self._aps.start()

    async def stop(self, within: float = 10.0) -> None:
        """No job starts any more; a running job has `within` seconds to finish, then it is
        cancelled (its transaction rolls back; its next run does the work)."""
        if self._stopped or not self._aps.running:
            self._stopped = True
            return
        self._stopped = True
        self._aps.pause()
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=within)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        self._aps.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
