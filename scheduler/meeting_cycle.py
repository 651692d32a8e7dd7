"""The monthly meeting's steps (call for topics, agenda, reminder, minutes), each posted once,
and the sweep of decision deadlines.

One periodic job (every 10 minutes, and soon after start-up) asks the meeting calendar which
steps are due at `now` (storage/deliberation/meeting_calendar.py) and performs each in its own
transaction, claiming it in the ledger with its outbox rows
(storage/deliberation/meeting_steps.py). The same job sweeps the decisions' deadlines
(storage/deliberation/decisions.py: sweep_decisions); the case deadline sweep is left as it is.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.core import JobSettings, Scheduler
from scheduler.cron import job_callback
from storage.db import session_scope
from storage.deliberation.decisions import sweep_decisions
from storage.deliberation.meeting_steps import perform_step

logger = logging.getLogger(__name__)

NAME = "meeting-cycle"
EVERY = timedelta(minutes=10)
FIRST = timedelta(seconds=45)


async def run_meeting_cycle(engine: AsyncEngine, *, now: datetime, settings: JobSettings) -> int:
    """Perform every meeting step due at `now` once, then sweep decision deadlines; returns
    how many notices were queued."""
    plan = settings.meeting_plan
    queued = 0
    for step in plan.due_steps(now):
        async with session_scope(engine) as session:
            done = await perform_step(session, step, plan=plan, now=now)
        if done:
            logger.info("meeting %s step %s: %d notices", step.period, step.name, done)
        queued += done
    async with session_scope(engine) as session:
        swept = await sweep_decisions(session, now=now, tz=plan.tz)
    if swept.reminded or swept.escalated:
        logger.info(
            "decision sweep: %d reminded, %d escalated; %d notices",
            swept.reminded,
            swept.escalated,
            swept.notices,
        )
    return queued + swept.notices


def schedule(scheduler: Scheduler) -> None:
    """Every 10 minutes (a step is due for a day or more, so a short outage loses nothing); a
    failed run is tried again (scheduler/cron.py)."""
    run = job_callback(scheduler, NAME, run_meeting_cycle)
    scheduler.every(run, name=NAME, interval=EVERY, first=FIRST)
