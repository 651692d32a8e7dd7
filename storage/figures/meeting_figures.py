"""Meetings held and decisions done in a period, each with its definition next to it.

Read straight from the meeting tables (storage/deliberation/meeting_models.py), so these figures do
not depend on how meetings are run, only on what was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.deliberation.meeting_models import Decision, Meeting
from storage.periods import Period

# A meeting was held once it ended (ended_at set) or is marked held or minuted; it counts in
# the period its start falls in (started_at, or the planned starts_at when no start was
# recorded). Planned, agenda-stage and still-running meetings are not "held".
HELD_STATUSES = ("held", "minuted")
# A dropped decision was abandoned: like a rejected case, it is not one the office took on.
DROPPED = "dropped"
DONE = "done"


@dataclass(frozen=True)
class MeetingFigures:
    """held: meetings held in the period. taken: decisions recorded in the period (created_at),
    not dropped. done: decisions marked done in the period (done_at), whenever taken.
    taken_done: of the decisions taken in the period, those done now; the completion rate is
    taken_done / taken (never over 100%, unlike done / taken)."""

    held: int
    taken: int
    done: int
    taken_done: int

    @property
    def completion_rate(self) -> float | None:
        return self.taken_done / self.taken if self.taken else None


def _in(moment: Any, period: Period) -> Any:
    return and_(moment >= period.start, moment < period.end)


async def meeting_figures(session: AsyncSession, *, period: Period) -> MeetingFigures:
    held = and_(
        or_(col(Meeting.ended_at).is_not(None), col(Meeting.status).in_(HELD_STATUSES)),
        _in(func.coalesce(col(Meeting.started_at), col(Meeting.starts_at)), period),
    )
    meetings = sa_select(func.count()).select_from(Meeting).where(held)
    taken = and_(_in(col(Decision.created_at), period), col(Decision.status) != DROPPED)
    decisions = sa_select(
        *(
            func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
            for condition in (
                taken,
                _in(col(Decision.done_at), period),
                and_(taken, col(Decision.status) == DONE),
            )
        )
    ).where(or_(_in(col(Decision.created_at), period), _in(col(Decision.done_at), period)))
    count = (await session.exec(meetings)).one()  # type: ignore[call-overload]
    got, done, taken_done = (await session.exec(decisions)).one()  # type: ignore[call-overload]
    return MeetingFigures(int(count[0]), int(got), int(done), int(taken_done))
