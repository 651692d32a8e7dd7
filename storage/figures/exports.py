"""The rows of an export: a period's cases, their events, hazards and disputes, and figures.

Cases are read in filing order, a chunk at a time, by keyset (filed at, id): a year of a busy
district never sits in memory at once, and each chunk is its own short transaction, so an
export does not hold SQLite's writer lock while a spreadsheet is being written. The events,
hazard and dispute particulars of a chunk's cases come with it (by case id, indexed).

Nothing personal leaves: no reporter, actor or assignee names, no addresses, coordinates or
photos. Texts people typed (descriptions, notes, places, parties) are the substance of a case
and are included with phone numbers masked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, func, or_, true
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases.disputes import DisputeFigures, dispute_figures
from storage.db import session_scope
from storage.figures.stats import Figures, figures
from storage.models import Case, CaseEvent, Category, Dispute, Hazard, Unit
from storage.periods import Period
from storage.text import mask_phones

logger = logging.getLogger(__name__)

CHUNK = 2000  # cases per read; also bounds the IN (...) lists of the detail queries
Position = tuple[datetime, int]  # (filed at, id) of the last case read


class CaseRow(NamedTuple):
    number: int
    filed_at: datetime
    category: str  # Chinese name
    status: str
    source: str
    unit: str | None  # Chinese name
    due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    satisfaction: int | None
    text: str


class EventRow(NamedTuple):
    case: int
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    note: str
    public: bool


class HazardRow(NamedTuple):
    case: int
    round: int | None
    kind: str
    place: str
    responsible_party: str
    deadline: datetime
    status: str
    rectified_at: datetime | None


class DisputeRow(NamedTuple):
    case: int
    parties: str
    people: int
    amount_yuan: int
    status: str
    resolved_at: datetime | None


@dataclass
class Chunk:
    cases: list[CaseRow]
    events: list[EventRow] = field(default_factory=list)
    hazards: list[HazardRow] = field(default_factory=list)
    disputes: list[DisputeRow] = field(default_factory=list)

    @property
    def position(self) -> Position:
        last = self.cases[-1]
        return last.filed_at, last.number


@dataclass(frozen=True)
class ReportFigures:
    figures: Figures
    disputes: DisputeFigures
    cases: int  # every case filed in the period, whatever its status or source


def _in(period: Period) -> Any:
    return and_(col(Case.created_at) >= period.start, col(Case.created_at) < period.end)


def _after(position: Position | None) -> Any:
    if position is None:
        return true()
    at, number = position
    # Written so both databases range-scan the created_at index from `at`.
    return and_(col(Case.created_at) >= at, or_(col(Case.created_at) > at, col(Case.id) > number))


async def _all(session: AsyncSession, query: Any) -> Sequence[Any]:
    return (await session.exec(query)).all()  # type: ignore[no-any-return]


async def read_chunk(
    session: AsyncSession,
    *,
    period: Period,
    after: Position | None = None,
    size: int = CHUNK,
    details: bool = True,
) -> Chunk:
    """Up to `size` cases filed in the period after `after`, with their particulars."""
    query = (
        sa_select(
            col(Case.id),
            col(Case.created_at),
            col(Category.name_zh),
            col(Case.status),
            col(Case.source),
            col(Unit.name_zh),
            col(Case.due_at),
            col(Case.first_response_at),
            col(Case.resolved_at),
            col(Case.satisfaction),
            col(Case.text),
        )
        .join(Category, col(Category.id) == Case.category_id)
        .outerjoin(Unit, col(Unit.id) == Case.unit_id)
        .where(_in(period), _after(after))
        .order_by(col(Case.created_at), col(Case.id))
        .limit(size)
    )
    rows = await _all(session, query)
    chunk = Chunk([CaseRow._make((*row[:-1], mask_phones(row[-1]))) for row in rows])
    if details and chunk.cases:
        numbers = [row.number for row in chunk.cases]
        chunk.events = await _events(session, numbers)
        chunk.hazards = await _hazards(session, numbers)
        chunk.disputes = await _disputes(session, numbers)
    return chunk


async def _events(session: AsyncSession, numbers: Sequence[int]) -> list[EventRow]:
    query = (
        sa_select(
            col(CaseEvent.case_id),
            col(CaseEvent.at),
            col(CaseEvent.kind),
            col(CaseEvent.from_status),
            col(CaseEvent.to_status),
            col(CaseEvent.note),
            col(CaseEvent.public),
        )
        .where(col(CaseEvent.case_id).in_(numbers))
        .order_by(col(CaseEvent.case_id), col(CaseEvent.id))
    )
    return [
        EventRow._make((*row[:5], mask_phones(row[5]), row[6]))
        for row in await _all(session, query)
    ]


async def _hazards(session: AsyncSession, numbers: Sequence[int]) -> list[HazardRow]:
    query = (
        sa_select(
            col(Hazard.case_id),
            col(Hazard.round_id),
            col(Hazard.kind),
            col(Hazard.place),
            col(Hazard.responsible_party),
            col(Hazard.deadline),
            col(Case.status),
            col(Case.resolved_at),
        )
        .join(Case, col(Case.id) == Hazard.case_id)
        .where(col(Hazard.case_id).in_(numbers))
        .order_by(col(Hazard.case_id))
    )
    return [
        HazardRow(c, r, k, mask_phones(place), mask_phones(party), d, s, at)
        for c, r, k, place, party, d, s, at in await _all(session, query)
    ]


async def _disputes(session: AsyncSession, numbers: Sequence[int]) -> list[DisputeRow]:
    query = (
        sa_select(
            col(Dispute.case_id),
            col(Dispute.parties),
            col(Dispute.people_count),
            col(Dispute.amount_yuan),
            col(Case.status),
            col(Case.resolved_at),
        )
        .join(Case, col(Case.id) == Dispute.case_id)
        .where(col(Dispute.case_id).in_(numbers))
        .order_by(col(Dispute.case_id))
    )
    return [
        DisputeRow(c, mask_phones(parties), n, amount, s, at)
        for c, parties, n, amount, s, at in await _all(session, query)
    ]


async def chunks(
    engine: AsyncEngine, *, period: Period, size: int = CHUNK, details: bool = True
) -> AsyncIterator[Chunk]:
    """Every case of the period in filing order, one short transaction per chunk."""
    after: Position | None = None
    while True:
        async with session_scope(engine) as session:
            chunk = await read_chunk(
                session, period=period, after=after, size=size, details=details
            )
        if chunk.cases:
            yield chunk
        if len(chunk.cases) < size:
            return
        after = chunk.position


async def count_cases(session: AsyncSession, *, period: Period) -> int:
    query = select(func.count()).select_from(Case).where(_in(period))
    return int((await session.exec(query)).one())


async def report_figures(session: AsyncSession, *, period: Period, now: datetime) -> ReportFigures:
    """The figures sheet's sources: storage.figures.stats, the disputes resolved, and a case
    count."""
    return ReportFigures(
        figures=await figures(session, period=period, now=now),
        disputes=await dispute_figures(session, start=period.start, end=period.end),
        cases=await count_cases(session, period=period),
    )
