"""The office's figures for any period, each with its definition next to it.

Cases are counted by when they were filed: a case filed in November and resolved in December
counts in November's figures as handled once it is resolved (figures are as of now).
"Demand incidents" are residents' cases (private chat, group, Open311); hazards are the cases an
inspection round logged (source "inspection"). One pass over the period's cases computes the
counts (conditional sums), so a year of a busy district stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import OPEN_STATUSES, Status
from storage.models import Case, Category
from storage.periods import Period, month

# Accepted (受理): cases filed in the period, except those rejected or marked duplicate: a
# refused or repeated report is not a demand the office took on.
NOT_ACCEPTED = (Status.REJECTED, Status.DUPLICATE)
# Handled (办结): of those, the ones now resolved, or closed after being resolved (in Yishi
# "closed" is only reachable from "resolved"). Reopened cases are not handled: the resident
# said it is not fixed. The rate is handled / accepted.
HANDLED = (Status.RESOLVED, Status.CLOSED)
INSPECTION = "inspection"


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None ("no data") when nothing was counted."""
    return part / whole if whole else None


@dataclass(frozen=True)
class DemandFigures:
    accepted: int
    handled: int

    @property
    def completion_rate(self) -> float | None:
        """Handled / accepted, as a fraction; None when nothing was accepted."""
        return ratio(self.handled, self.accepted)


@dataclass(frozen=True)
class HazardFigures:
    """Found: hazard cases logged in the period (not rejected or duplicate); rectified: those
    resolved or closed after resolution (rectification is the case's resolution)."""

    found: int
    rectified: int

    @property
    def rectification_rate(self) -> float | None:
        return ratio(self.rectified, self.found)


@dataclass(frozen=True)
class Durations:
    """Hours from filing to an event, over the period's cases that reached it; median and
    90th percentile by the nearest-rank method (the same on SQLite and PostgreSQL)."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Satisfaction:
    """The reporters' 1-5 star ratings of the period's cases."""

    responses: int
    average: float | None


@dataclass(frozen=True)
class CategoryCount:
    code: str
    name_zh: str
    name_en: str
    status: str
    count: int


@dataclass(frozen=True)
class MonthCount:
    month: str
    accepted: int
    handled: int


@dataclass(frozen=True)
class Figures:
    period: Period
    category: str | None
    demand: DemandFigures
    hazards: HazardFigures
    first_response: Durations
    resolution: Durations
    overdue_now: int  # open cases past due at the time of asking, whenever they were filed
    satisfaction: Satisfaction
    by_category: list[CategoryCount]
    trend: list[MonthCount]  # the twelve months ending with the period's last month


def _in(start: datetime, end: datetime) -> Any:
    return and_(col(Case.created_at) >= start, col(Case.created_at) < end)


def _hours(later: Any, earlier: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


async def _durations(session: AsyncSession, scope: Any, later: Any, dialect: str) -> Durations:
    hours = _hours(later, Case.created_at, dialect)
    where = and_(scope, later.is_not(None))
    if dialect == "postgresql":
        query = sa_select(
            func.count(),
            func.percentile_disc(0.5).within_group(hours),
            func.percentile_disc(0.9).within_group(hours),
        ).where(where)
        count, median, p90 = (
            await session.exec(  # type: ignore[call-overload]
                query
            )
        ).one()
        return Durations(int(count), _f(median), _f(p90))
    count = int((await session.exec(select(func.count()).where(where))).one())
    if not count:
        return Durations(0, None, None)
    # Nearest rank, ceil(p * n); one sort serves both ranks (SQLite has no percentile).
    ranks = [max(1, -(-count * tenths // 10)) for tenths in (5, 9)]
    ordered = (
        sa_select(
            cast(hours, Float).label("h"),
            func.row_number().over(order_by=hours).label("rank"),
        )
        .where(where)
        .subquery()
    )
    query = sa_select(ordered.c.rank, ordered.c.h).where(ordered.c.rank.in_(ranks))
    found = {int(rank): h for rank, h in (await session.exec(query)).all()}  # type: ignore[call-overload]
    return Durations(count, _f(found.get(ranks[0])), _f(found.get(ranks[1])))


def _f(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


async def figures(
    session: AsyncSession, *, period: Period, now: datetime, category: str | None = None
) -> Figures:
    """Every figure for a period (optionally one category code)."""
    dialect = session.get_bind().dialect.name
    scope: Any = _in(period.start, period.end)
    if category is not None:
        scope = and_(
            scope, col(Case.category_id).in_(select(Category.id).where(Category.code == category))
        )
    residents = col(Case.source) != INSPECTION
    accepted = and_(col(Case.status).not_in(NOT_ACCEPTED))
    done = col(Case.status).in_(HANDLED)
    counts = sa_select(
        *(
            func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
            for condition in (
                and_(accepted, residents),
                and_(accepted, residents, done),
                and_(accepted, ~residents),
                and_(accepted, ~residents, done),
                col(Case.satisfaction).is_not(None),
            )
        ),
        func.avg(cast(Case.satisfaction, Float)),
    ).where(scope)
    got, handled, found, rectified, rated, average = (
        await session.exec(  # type: ignore[call-overload]
            counts
        )
    ).one()
    overdue = select(func.count()).where(
        col(Case.status).in_(OPEN_STATUSES), col(Case.due_at) < now
    )
    return Figures(
        period=period,
        category=category,
        demand=DemandFigures(int(got), int(handled)),
        hazards=HazardFigures(int(found), int(rectified)),
        first_response=await _durations(session, scope, col(Case.first_response_at), dialect),
        resolution=await _durations(session, scope, col(Case.resolved_at), dialect),
        overdue_now=int(
            (
                await session.exec(  # type: ignore[call-overload]
                    overdue
                )
            ).one()
        ),
        satisfaction=Satisfaction(int(rated), _f(average)),
        by_category=await _by_category(session, scope),
        trend=await _trend(session, period, category),
    )


async def _by_category(session: AsyncSession, scope: Any) -> list[CategoryCount]:
    # Grouped by id without the join (names come from the few category rows): the join made
    # the database carry three text columns through a million-row grouping.
    query = (
        sa_select(col(Case.category_id), col(Case.status), func.count())
        .where(scope)
        .group_by(col(Case.category_id), col(Case.status))
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    names = {c.id: c for c in (await session.exec(select(Category))).all()}
    found = [
        CategoryCount(names[cid].code, names[cid].name_zh, names[cid].name_en, status, count)
        for cid, status, count in rows
    ]
    return sorted(found, key=lambda c: (c.code, c.status))


async def _trend(session: AsyncSession, period: Period, category: str | None) -> list[MonthCount]:
    """Accepted and handled residents' cases per local month, in one grouped query."""
    year, number = period.last_day.year, period.last_day.month
    months = []
    for back in range(11, -1, -1):
        y, m = divmod(year * 12 + number - 1 - back, 12)
        months.append(month(y, m + 1, period.tz))
    bucket = case(
        *((col(Case.created_at) < p.end, literal(i)) for i, p in enumerate(months)),
        else_=literal(len(months)),
    )
    accepted = and_(col(Case.status).not_in(NOT_ACCEPTED), col(Case.source) != INSPECTION)
    query = (
        select(
            bucket,
            func.sum(case((accepted, 1), else_=0)),
            func.sum(case((and_(accepted, col(Case.status).in_(HANDLED)), 1), else_=0)),
        )
        .where(_in(months[0].start, months[-1].end))
        .group_by(bucket)
    )
    if category is not None:
        query = query.where(
            col(Case.category_id).in_(select(Category.id).where(Category.code == category))
        )
    found = {
        int(i): (int(a or 0), int(h or 0))
        for i, a, h in (
            await session.exec(  # type: ignore[call-overload]
                query
            )
        ).all()
    }
    return [MonthCount(p.label, *found.get(i, (0, 0))) for i, p in enumerate(months)]
