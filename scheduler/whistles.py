"""The whistle's scheduled work: the one reminder before the deadline, results at it.

A sweep every minute asks storage which whistles are due (storage/whistle/timetable.py). Each
whistle is handled in its own transaction: the claim (Whistle.reminded_at, or status "closed")
and the outbox rows it causes commit together, with dedup keys, so a crash leaves neither and a
restart, a late run or a second instance finds the claim and does nothing. The reminder goes
24 h before the deadline (at 3/4 of the time for a whistle open under two days) to private
subscribers in the audience who have not answered; never to groups.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.core import JobContext, Scheduler
from storage import outbox
from storage.db import session_scope
from storage.models import utcnow
from storage.whistle.notices import CHART, REMINDER, RESULTS, reminder_params, results_params
from storage.whistle.results import whistle_results
from storage.whistle.timetable import (
    claim_closing,
    claim_reminder,
    claimed_whistle,
    due_whistles,
    private_notice,
    queue_reminders,
    reminder_targets,
    results_recipients,
)

logger = logging.getLogger(__name__)

EVERY = timedelta(minutes=1)


@dataclass
class Swept:
    reminded: int = 0  # whistles whose reminder was queued
    reminders: int = 0  # reminder notices queued
    closed: int = 0  # whistles closed
    results: int = 0  # results notices queued (text and chart count as one each)


async def sweep_whistles(engine: AsyncEngine, *, now: datetime, tz: ZoneInfo) -> Swept:
    """Close the whistles past their deadline and remind the ones due, as of `now`."""
    swept = Swept()
    async with session_scope(engine) as session:
        due = await due_whistles(session, now=now)
    for whistle_id in due.close:
        async with session_scope(engine) as session:
            queued = await close_whistle(session, whistle_id=whistle_id, now=now, tz=tz)
        if queued is not None:
            swept.closed += 1
            swept.results += queued
    for whistle_id in due.remind:
        async with session_scope(engine) as session:
            queued = await remind(session, whistle_id=whistle_id, now=now, tz=tz)
        if queued is not None:
            swept.reminded += 1
            swept.reminders += queued
    return swept


async def remind(
    session: AsyncSession, *, whistle_id: int, now: datetime, tz: ZoneInfo
) -> int | None:
    """Claim the whistle's reminder and queue it; None if it was claimed before."""
    if not await claim_reminder(session, whistle_id=whistle_id, now=now):
        return None
    whistle = await claimed_whistle(session, whistle_id=whistle_id)
    carrier = await private_notice(session, whistle_id=whistle_id)
    params = reminder_params(whistle, tz=tz, carrier=carrier)
    targets = await reminder_targets(session, whistle_id=whistle_id)
    queued = await queue_reminders(
        session, whistle_id=whistle_id, targets=targets, kind=REMINDER, params=params
    )
    logger.info(
        "whistle %d: reminder queued for %d of %d subscriber(s)", whistle_id, queued, len(targets)
    )
    return queued


async def close_whistle(
    session: AsyncSession, *, whistle_id: int, now: datetime, tz: ZoneInfo
) -> int | None:
    """Close the whistle and queue its results (text and chart) to the secretary who blew it
    and, if chosen, to the groups it went to. None if it was closed before."""
    if not await claim_closing(session, whistle_id=whistle_id, now=now):
        return None
    whistle = await claimed_whistle(session, whistle_id=whistle_id)
    params = results_params(await whistle_results(session, whistle=whistle), tz=tz)
    recipients = await results_recipients(session, whistle=whistle)
    queued = 0
    for kind in (RESULTS, CHART):  # each chat gets the words, then the chart
        queued += await outbox.enqueue_each(
            session, to=recipients, kind=kind, params=params, key=str(whistle_id)
        )
    logger.info(
        "whistle %d closed; results queued: %d notice(s) for %d chat(s)",
        whistle_id,
        queued,
        len(recipients),
    )
    return queued


async def whistle_sweep(context: JobContext) -> None:
    """The job: one sweep, then wake the sender if anything was queued."""
    swept = await sweep_whistles(context.engine, now=utcnow(), tz=context.settings.tz)
    if swept.reminders or swept.results:
        context.wake()
    if swept.reminded or swept.closed:
        logger.info("whistle sweep: %d reminded, %d closed", swept.reminded, swept.closed)


def schedule(scheduler: Scheduler) -> None:
    """Every minute, the first soon after start-up (a missed deadline is caught up then)."""
    scheduler.every(
        whistle_sweep, name="whistle-sweep", interval=EVERY, first=timedelta(seconds=20)
    )
