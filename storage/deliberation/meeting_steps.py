"""The scheduled steps of the monthly meeting, each done once.

Every step claims ("meeting", "<period>:<step>") in the ledger in the same transaction as its
outbox rows, so a second run, a late catch-up or a second instance posts nothing twice. A step
with nobody to tell (no registered group, no secretary) is left unclaimed for a later run.

If the agenda is not approved by T-2 it is not posted: the secretaries get the draft again with
the Approve button ("agenda_wait", once), and approving it later posts it at once (post_agenda
from the approval), since an unapproved agenda must not reach residents as if it were agreed.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.cases.notify import secretaries
from storage.deliberation.meeting_audience import item_people, registered_groups
from storage.deliberation.meeting_calendar import MeetingPlan, Step
from storage.deliberation.meeting_models import Meeting
from storage.deliberation.meeting_run import end_meeting, minutes_params
from storage.deliberation.meetings import (
    APPROVED,
    DRAFT,
    IN_PROGRESS,
    MINUTED,
    PLANNED,
    agenda,
    agenda_params,
    compile_agenda,
    meeting_for,
)
from storage.ledger import claim_run
from storage.models import Group, Resident

logger = logging.getLogger(__name__)

JOB = "meeting"


def _when(meeting: Meeting, plan: MeetingPlan) -> str:
    return meeting.starts_at.astimezone(plan.tz).strftime("%Y-%m-%d %H:%M")


async def _send(
    session: AsyncSession,
    people: list[Resident] | list[Group],
    *,
    kind: str,
    params: dict[str, Any],
    key: str,
) -> int:
    """Queue to each of `people`; how many were queued now (not under the same key before)."""
    return await outbox.enqueue_each(session, to=people, kind=kind, params=params, key=key)


async def _claim(session: AsyncSession, meeting: Meeting, step: str) -> bool:
    return await claim_run(session, job=JOB, period=f"{meeting.period}:{step}")


async def agenda_notice(
    session: AsyncSession, meeting: Meeting, plan: MeetingPlan
) -> dict[str, Any]:
    items = await agenda(session, meeting=meeting)
    return {
        "meeting": meeting.id,
        "period": meeting.period,
        "when": _when(meeting, plan),
        "items": agenda_params(items),
    }


async def send_draft(
    session: AsyncSession, meeting: Meeting, plan: MeetingPlan, *, now: datetime, step: str
) -> int:
    """The draft agenda to the secretaries with Approve / Edit (step "draft" or the T-2 wait)."""
    people = await secretaries(session)
    if meeting.status not in (PLANNED, DRAFT) or not people:
        return 0
    if not await _claim(session, meeting, step):
        return 0
    await compile_agenda(session, meeting=meeting, now=now)
    meeting.status = DRAFT
    session.add(meeting)
    again = step != "draft"
    params = {**await agenda_notice(session, meeting, plan), "again": again}
    # The draft asked for again has a key of its own: under the draft's, it would be dropped.
    key = f"{meeting.period}:{step}" if again else meeting.period
    return await _send(session, people, kind="meeting_draft", params=params, key=key)


async def post_agenda(session: AsyncSession, meeting: Meeting, plan: MeetingPlan) -> int:
    """The approved agenda to the groups and, privately, to everyone behind an item."""
    groups = await registered_groups(session)
    if meeting.status != APPROVED or not await _claim(session, meeting, "agenda"):
        return 0
    params = await agenda_notice(session, meeting, plan)
    sent = await _send(session, groups, kind="meeting_agenda", params=params, key=meeting.period)
    behind: set[int] = set()
    for item in await agenda(session, meeting=meeting):
        behind |= set(await item_people(session, item=item))
    people = [r for r in [await session.get(Resident, i) for i in sorted(behind)] if r]
    sent += await _send(session, people, kind="meeting_agenda", params=params, key=meeting.period)
    logger.info("agenda of %s posted: %d notices", meeting.period, sent)
    return sent


async def perform_step(
    session: AsyncSession,
    step: Step,
    *,
    plan: MeetingPlan,
    now: datetime,
) -> int:
    """Do one due step of one meeting (at most once); returns how many notices it queued."""
    meeting = await meeting_for(session, period=step.period, plan=plan)
    base = {"meeting": meeting.id, "period": meeting.period, "when": _when(meeting, plan)}
    if step.name == "draft":
        return await send_draft(session, meeting, plan, now=now, step="draft")
    if step.name == "agenda":
        if meeting.status == APPROVED:
            return await post_agenda(session, meeting, plan)
        if meeting.status in (PLANNED, DRAFT):
            return await send_draft(session, meeting, plan, now=now, step="agenda_wait")
        return 0
    if step.name == "meeting":
        if meeting.status == IN_PROGRESS or not (people := await secretaries(session)):
            return 0
        if not await _claim(session, meeting, "meeting"):
            return 0
        return await _send(session, people, kind="meeting_open", params=base, key=meeting.period)
    groups = await registered_groups(session)
    if not groups or (step.name == "minutes" and meeting.status == MINUTED):
        return 0
    if not await _claim(session, meeting, step.name):
        return 0
    if step.name == "minutes":
        await end_meeting(session, meeting=meeting, now=now)
        minutes = await minutes_params(session, meeting=meeting, tz=plan.tz)
        # Kept as data, like the outbox rows: worded when read, in the reader's language.
        meeting.minutes, meeting.status = json.dumps(minutes, ensure_ascii=False), MINUTED
        session.add(meeting)
        base = {**base, **minutes}
    kind = {"topics": "meeting_topics", "reminder": "meeting_reminder"}.get(step.name)
    return await _send(
        session, groups, kind=kind or "meeting_minutes", params=base, key=meeting.period
    )
