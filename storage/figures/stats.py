"""The office's figures for any period, each with its definition next to it.

Cases are counted by when they were filed: a case filed in November and resolved in December
counts in November's figures as handled once it is resolved (figures are as of now).
"Demand incidents" are residents' cases (private chat, group, Open311); hazards are the cases an
inspection round logged (source "inspection"). Figures can be narrowed to one category and/or
one building (Case.building: the reporter's building when the case was filed; cases from
residents who gave none belong to no building).

Every count, the satisfaction and the by-category table are sums of a few rows per category,
status and source; the durations come from a histogram of whole minutes. For periods of whole
months (a month, a year) both are read from the rollup (storage/figures/stats_rollup.py), tallies
kept in step with the cases, so a year of a million cases is a sum over a few thousand rows; other
periods, and durations narrowed to a category or building, are read live from the cases.
`rollup=False` reads everything live: the rollup's test compares the two on random data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import OPEN_STATUSES
from storage.cases.states import HANDLED as HANDLED  # defined with the states, re-exported
from storage.cases.states import NOT_ACCEPTED as NOT_ACCEPTED
from storage.figures.meeting_figures import MeetingFigures, meeting_figures
from storage.figures.stats_durations import Durations, live_minutes, nearest_rank
from storage.figures.stats_live import live_groups, live_trend
from storage.figures.stats_rollup import ensure_rollup
from storage.figures.stats_tallied import (
    tallied_groups,
    tallied_minutes,
    tallied_trend,
    whole_months,
)
from storage.models import Case, Category
from storage.periods import Period, month

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
    building: str | None = None
    # Meetings are the whole estate's: None when the figures are narrowed to a category or
    # building (they would read as that category's or building's meetings).
    meetings: MeetingFigures | None = None


def _in(start: datetime, end: datetime) -> Any:
    return and_(col(Case.created_at) >= start, col(Case.created_at) < end)


def _narrowed(where: Any, category: str | None, building: str | None) -> Any:
    """`where`, and in the category (by code) and the building, when given."""
    if category is not None:
        codes = select(Category.id).where(Category.code == category)
        where = and_(where, col(Case.category_id).in_(codes))
    if building is not None:
        where = and_(where, col(Case.building) == building)
    return where


async def figures(
    session: AsyncSession,
    *,
    period: Period,
    now: datetime,
    category: str | None = None,
    building: str | None = None,
    rollup: bool = True,
) -> Figures:
    """Every figure for a period, optionally narrowed to one category code and/or building."""
    scope = _narrowed(_in(period.start, period.end), category, building)
    # The rollup keeps "no building" as '': a building literally named '' is read live.
    rollup = rollup and building != ""
    if rollup:
        await ensure_rollup(session, period.tz)
    months = whole_months(period) if rollup else None
    if months is not None:
        rows = await tallied_groups(session, months, category, building)
    else:
        rows = await live_groups(session, scope)
    groups = [_Group(*row) for row in rows]
    accepted = [g for g in groups if g.status not in NOT_ACCEPTED]
    residents = [g for g in accepted if not g.inspection]
    hazards = [g for g in accepted if g.inspection]
    rated = sum(g.rated for g in groups)
    stars = sum(g.stars for g in groups)
    # Overdue now: open cases past due at the time of asking, whenever they were filed (in the
    # category and building, when given). Index (status, due_at): one range per open status.
    overdue = select(func.count()).where(
        _narrowed(
            and_(col(Case.status).in_(OPEN_STATUSES), col(Case.due_at) < now), category, building
        )
    )
    narrowed = category is not None or building is not None
    tallied = months is not None and not narrowed  # durations are tallied for everything only
    durations = []
    for kind, moment in (
        ("first", col(Case.first_response_at)),
        ("resolved", col(Case.resolved_at)),
    ):
        histogram = (
            await tallied_minutes(session, months, kind)
            if tallied and months is not None
            else await live_minutes(session, scope, moment)
        )
        durations.append(nearest_rank(histogram))
    return Figures(
        period=period,
        category=category,
        building=building,
        demand=DemandFigures(_sum(residents), _sum(residents, HANDLED)),
        hazards=HazardFigures(_sum(hazards), _sum(hazards, HANDLED)),
        first_response=durations[0],
        resolution=durations[1],
        overdue_now=int((await session.exec(overdue)).one()),
        satisfaction=Satisfaction(rated, stars / rated if rated else None),
        by_category=await _by_category(session, groups),
        trend=await _trend(session, period, category, building, rollup),
        meetings=None if narrowed else await meeting_figures(session, period=period),
    )


@dataclass(frozen=True)
class _Group:
    category_id: int
    status: str
    inspection: bool
    count: int
    rated: int
    stars: int


def _sum(groups: list[_Group], statuses: tuple[str, ...] | None = None) -> int:
    return sum(g.count for g in groups if statuses is None or g.status in statuses)


async def _by_category(session: AsyncSession, groups: list[_Group]) -> list[CategoryCount]:
    # Counted by id (names come from the few category rows): a join made the database carry
    # three text columns through a million-row grouping.
    counts: dict[tuple[int, str], int] = {}
    for g in groups:
        counts[g.category_id, g.status] = counts.get((g.category_id, g.status), 0) + g.count
    names = {c.id: c for c in (await session.exec(select(Category))).all()}
    found = [
        CategoryCount(names[cid].code, names[cid].name_zh, names[cid].name_en, status, count)
        for (cid, status), count in counts.items()
    ]
    return sorted(found, key=lambda c: (c.code, c.status))


async def _trend(
    session: AsyncSession,
    period: Period,
    category: str | None,
    building: str | None,
    rollup: bool,
) -> list[MonthCount]:
    """Accepted and handled residents' cases in each of the twelve local months ending with
    the period's last month."""
    year, number = period.last_day.year, period.last_day.month
    months = []
    for back in range(11, -1, -1):
        y, m = divmod(year * 12 + number - 1 - back, 12)
        months.append(month(y, m + 1, period.tz))
    if rollup:
        labels = [p.label for p in months]
        sums = await tallied_trend(
            session,
            labels,
            category=category,
            building=building,
            not_accepted=NOT_ACCEPTED,
            handled=HANDLED,
        )
    else:
        ranges = [(p.label, _narrowed(_in(p.start, p.end), category, building)) for p in months]
        sums = await live_trend(session, ranges, not_accepted=NOT_ACCEPTED, handled=HANDLED)
    return [MonthCount(p.label, *sums.get(p.label, (0, 0))) for p in months]
