"""Every job the bot runs: the scheduler that `yishi run` starts and `yishi schedule` lists."""

from __future__ import annotations

from scheduler import digests, meeting_cycle, whistle_delivery, whistles
from scheduler.core import JobContext, Scheduler
from scheduler.deadlines import schedule_deadline_sweep
from scheduler.housekeeping import schedule_housekeeping
from scheduler.monthly_report import schedule_monthly_report


def build_scheduler(context: JobContext) -> Scheduler:
    """A scheduler with every job on it, not yet started."""
    scheduler = Scheduler(context)
    schedule_housekeeping(scheduler)
    schedule_deadline_sweep(scheduler)
    schedule_monthly_report(scheduler)
    whistles.schedule(scheduler)
    whistle_delivery.schedule(scheduler)
    meeting_cycle.schedule(scheduler)
    digests.schedule(scheduler)
    return scheduler
