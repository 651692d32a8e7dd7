"""Weekly and monthly case-status digests to each registered group, each posted once.

The weekly digest covers Monday to Sunday and is due on the following Monday at 09:00 local
time; the monthly one covers a calendar month and is due on the 1st at 09:00. A run (on its
cron time, after start-up, or a retry) posts the latest period that is due at its `now`, if the
ledger does not have it yet: a restart or a second instance finds the claim and does nothing,
and a bot that was down on Monday morning posts the week when it comes back. Until some group
is registered nothing is claimed, so the first group still gets the period that was due.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from scheduler.core import JobSettings, Scheduler
from scheduler.cron import schedule_cron
from storage import outbox
from storage.db import session_scope
from storage.deliberation.digest_notice import KIND, MONTHLY, WEEKLY, digest_notice_params
from storage.deliberation.digests import Digest, compile_digest, digest_params
from storage.ledger import claim_run, was_claimed
from storage.models import Group
from storage.people.profiles import registered_groups
from storage.periods import Period, month

logger = logging.getLogger(__name__)

AT = time(9, 0)  # local time: the groups read it with the morning's messages


def _due(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, AT, tz)


def due_period(cadence: str, now: datetime, tz: ZoneInfo) -> Period:
    """The latest period whose digest is due by `now`."""
    local = now.astimezone(tz)
    today = local.date()
    if cadence == WEEKLY:
        monday = today - timedelta(days=today.weekday())
        if local < _due(monday, tz):
            monday -= timedelta(days=7)
        first = monday - timedelta(days=7)
        year, week, _ = first.isocalendar()
        return Period(f"{year}-W{week:02d}", first, monday - timedelta(days=1), tz)
    if cadence == MONTHLY:
        first_of_month = today.replace(day=1)
        if local < _due(first_of_month, tz):
            first_of_month = (first_of_month - timedelta(days=1)).replace(day=1)
        last = first_of_month - timedelta(days=1)
        return month(last.year, last.month, tz)
    raise ValueError(f"unknown digest cadence {cadence!r}")


def _job(cadence: str) -> str:
    return f"digest-{cadence}"


def _coverage(group: Group) -> tuple[str, ...]:
    return tuple(sorted(set(group.buildings or [])))


async def queue_digests(
    engine: AsyncEngine, *, cadence: str, now: datetime, tz: ZoneInfo, lang: str = "zh"
) -> int | None:
    """Claim the due period and queue its digest to every registered group.

    Returns how many digests were queued now (not under the same key before), or None when
    the period was posted before (or no group is registered yet, in which case it stays
    unclaimed for a later run).
    """
    period = due_period(cadence, now, tz)
    async with session_scope(engine) as session:
        if await was_claimed(session, job=_job(cadence), period=period.label):
            return None
        coverages = {_coverage(group) for group in await registered_groups(session)}
    # Each digest in its own short transaction: on SQLite every transaction holds the writer
    # lock, and the residents' reports should not wait for all of them.
    digests: dict[tuple[str, ...], Digest] = {}
    for coverage in sorted(coverages):
        async with session_scope(engine) as session:
            digests[coverage] = await _compile(session, coverage, period, now)
    async with session_scope(engine) as session:
        groups = await registered_groups(session)
        if not groups:
            logger.info("%s digest for %s waits: no registered group", cadence, period.label)
            return None
        if not await claim_run(session, job=_job(cadence), period=period.label):
            return None
        queued = 0
        for group in groups:
            coverage = _coverage(group)
            if coverage not in digests:  # registered a moment ago
                digests[coverage] = await _compile(session, coverage, period, now)
            params = digest_notice_params(
                cadence=cadence,
                label=period.label,
                first_day=period.first_day.isoformat(),
                last_day=period.last_day.isoformat(),
                digest=digest_params(digests[coverage]),
            )
            queued += await outbox.enqueue(
                session,
                to=group,
                kind=KIND,
                params=params,
                dedup_key=f"{KIND}:{cadence}:{period.label}:{group.id}",
                lang=lang,
            )
    logger.info(
        "%s digest for %s queued for %d of %d groups", cadence, period.label, queued, len(groups)
    )
    return queued


async def _compile(
    session: AsyncSession, coverage: tuple[str, ...], period: Period, now: datetime
) -> Digest:
    return await compile_digest(
        session, buildings=list(coverage) or None, start=period.start, end=period.end, now=now
    )


async def weekly_digests(
    engine: AsyncEngine, *, now: datetime, settings: JobSettings
) -> int | None:
    return await queue_digests(
        engine, cadence=WEEKLY, now=now, tz=settings.tz, lang=settings.default_language
    )


async def monthly_digests(
    engine: AsyncEngine, *, now: datetime, settings: JobSettings
) -> int | None:
    return await queue_digests(
        engine, cadence=MONTHLY, now=now, tz=settings.tz, lang=settings.default_language
    )


def schedule(scheduler: Scheduler) -> None:
    """Weekly on Monday and monthly on the 1st, at 09:00 in the estate's time zone, and each
    once soon after start-up to make up a run missed while the bot was down."""
    hour, minute = AT.hour, AT.minute
    schedule_cron(
        scheduler,
        name="weekly-digest",
        work=weekly_digests,
        day_of_week="mon",
        hour=hour,
        minute=minute,
    )
    schedule_cron(
        scheduler, name="monthly-digest", work=monthly_digests, day=1, hour=hour, minute=minute
    )
