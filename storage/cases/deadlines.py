"""The deadline sweep: remind at 80% of the due time, escalate when overdue, auto-close.

One periodic sweep finds what is due (no job per case). Each step stamps the case
(reminded_at, escalated_at, closed_at) in the same transaction as its notices, so running the
sweep twice, or on two instances, sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import assignment
from storage.cases.notify import notify_handlers, notify_reporter, notify_secretaries
from storage.cases.records import OPEN_STATUSES, Status, change_status
from storage.cases.workflow import record_event
from storage.models import Case, Route

REMIND_AT = 0.8
CONFIRM_WITHIN = timedelta(days=7)


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0
    closed: int = 0
    notices: int = 0  # queued now (a unit may have nobody in it to remind)


async def overdue(session: AsyncSession, *, now: datetime, limit: int = 50) -> list[Case]:
    """Open cases past their due time, most overdue first. Resolved cases wait on the
    resident, so they are never late."""
    query = (
        select(Case)
        .where(col(Case.status).in_(OPEN_STATUSES), col(Case.due_at) < now)
        .order_by(col(Case.due_at))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def sweep(session: AsyncSession, *, now: datetime, local_today: date) -> SweepResult:
    result = SweepResult()
    # Due times are set from the route when a case is assigned; the same window places the
    # 80% reminder.
    windows = {
        r.category_id: timedelta(hours=r.due_hours) for r in (await session.exec(select(Route)))
    }
    open_with_due = select(Case).where(
        col(Case.status).in_(OPEN_STATUSES), col(Case.due_at).is_not(None)
    )
    for case in (await session.exec(open_with_due)).all():
        assert case.due_at is not None
        window = windows.get(case.category_id, assignment.DEFAULT_DUE)
        if case.due_at <= now and case.escalated_at is None:
            case.escalated_at = now
            event = await record_event(
                session, case=case, actor=None, kind="escalated", note="", public=False
            )
            result.notices += await notify_secretaries(
                session, case=case, kind="overdue", event=event
            )
            result.escalated += 1
        elif case.reminded_at is None and now >= case.due_at - window * (1 - REMIND_AT):
            case.reminded_at = now
            event = await record_event(
                session, case=case, actor=None, kind="reminded", note="", public=False
            )
            people = await assignment.handlers_of(session, case, today=local_today)
            result.notices += await notify_handlers(
                session, case=case, people=people, kind="due_soon", event=event
            )
            result.reminded += 1
        session.add(case)
    unanswered = select(Case).where(
        Case.status == Status.RESOLVED, col(Case.resolved_at) <= now - CONFIRM_WITHIN
    )
    for case in (await session.exec(unanswered)).all():
        case.closed_at = now
        event = await change_status(session, case=case, to=Status.CLOSED, actor=None, note="auto")
        result.notices += await notify_reporter(session, case=case, event=event)
        result.closed += 1
    await session.flush()
    return result
