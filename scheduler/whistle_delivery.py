"""Keeping each secretary's live delivery report up to date while a whistle goes out.

Every few seconds: for each recently sent whistle with a report message, count its notices in
the outbox and, when the counts changed, queue an edit of the report (dedup key with the
counts, so an unchanged count queues nothing and two instances queue it once). When nothing is
pending any more, one final edit (dedup key "...:final") ends it, and the whistle is not
counted again. Cheap when idle: one query for the candidates and one lookup each.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.core import JobContext, Scheduler
from storage import outbox
from storage.db import session_scope
from storage.models import utcnow
from storage.whistle.notices import REPORT, report_params
from storage.whistle.queue import delivery_counts, report_reader, whistles_with_reports

logger = logging.getLogger(__name__)

EVERY = timedelta(seconds=3)
WATCH = timedelta(days=2)  # a delivery still unfinished after this is left to the outbox


def report_key(whistle_id: int, suffix: str) -> str:
    return f"{REPORT}:{whistle_id}:{suffix}"


async def update_reports(engine: AsyncEngine, *, now: datetime, tz: str) -> int:
    """Queue the report edits due at `now`; returns how many were queued."""
    queued = 0
    async with session_scope(engine) as session:
        for whistle in await whistles_with_reports(session, since=now - WATCH):
            assert whistle.id is not None
            final_key = report_key(whistle.id, "final")
            if await outbox.was_queued(session, dedup_key=final_key):
                continue
            secretary = await report_reader(session, whistle=whistle)
            if secretary is None:
                continue
            counts = await delivery_counts(session, whistle_id=whistle.id)
            final = counts.pending == 0
            key = (
                final_key
                if final
                else report_key(whistle.id, f"{counts.sent}:{counts.failed}:{counts.blocked}")
            )
            params = report_params(whistle, counts, tz=tz, final=final)
            if await outbox.enqueue(
                session, to=secretary, kind=REPORT, params=params, dedup_key=key
            ):
                queued += 1
    return queued


async def whistle_reports(context: JobContext) -> None:
    """The repeating job: edit the reports of whistles being delivered."""
    queued = await update_reports(context.engine, now=utcnow(), tz=context.settings.timezone)
    if queued:
        context.wake()


def schedule(scheduler: Scheduler) -> None:
    scheduler.every(whistle_reports, name="whistle-delivery-report", interval=EVERY, first=EVERY)
