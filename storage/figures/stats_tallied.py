"""Reading the figures' rollup (storage/figures/stats_rollup.py): sums over a period's months."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.figures.stats_models import CaseTally, DurationTally
from storage.models import Category
from storage.periods import Period

SUMS = ("cases", "rated", "stars")


def whole_months(period: Period) -> list[str] | None:
    """The month labels of a period made of whole local months, else None."""
    if period.first_day.day != 1 or (period.last_day + timedelta(days=1)).day != 1:
        return None
    first, last = period.first_day, period.last_day
    return [
        f"{n // 12}-{n % 12 + 1:02d}"
        for n in range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
    ]


def _narrowed(query: Any, category: str | None, building: str | None) -> Any:
    if category is not None:
        codes = sa_select(col(Category.id)).where(col(Category.code) == category)
        query = query.where(col(CaseTally.category_id).in_(codes))
    if building is not None:
        query = query.where(col(CaseTally.building) == building)
    return query


async def tallied_groups(
    session: AsyncSession, months: list[str], category: str | None, building: str | None
) -> list[tuple[int, str, bool, int, int, int]]:
    """(category id, status, inspection, cases, rated, stars) over the months."""
    keys = (col(CaseTally.category_id), col(CaseTally.status), col(CaseTally.inspection))
    sums = [func.sum(getattr(CaseTally, name)) for name in SUMS]
    query = (
        sa_select(*keys, *sums)
        .where(col(CaseTally.month).in_(months))
        .group_by(*keys)
        .having(sums[0] > 0)
    )
    rows = (await session.exec(_narrowed(query, category, building))).all()
    return [(c, s, bool(i), int(n), int(r), int(t)) for c, s, i, n, r, t in rows]


async def tallied_trend(
    session: AsyncSession,
    months: list[str],
    *,
    category: str | None,
    building: str | None,
    not_accepted: Sequence[str],
    handled: Sequence[str],
) -> dict[str, tuple[int, int]]:
    """Per month: residents' cases accepted, and of those handled."""
    accepted = col(CaseTally.status).not_in(not_accepted)
    done = col(CaseTally.status).in_(handled)
    query = (
        sa_select(
            col(CaseTally.month),
            func.sum(case((accepted, col(CaseTally.cases)), else_=0)),
            func.sum(case((and_(accepted, done), col(CaseTally.cases)), else_=0)),
        )
        .where(col(CaseTally.month).in_(months), ~col(CaseTally.inspection))
        .group_by(col(CaseTally.month))
    )
    rows = (await session.exec(_narrowed(query, category, building))).all()
    return {m: (int(a), int(h)) for m, a, h in rows}


async def tallied_minutes(
    session: AsyncSession, months: list[str], kind: str
) -> list[tuple[int, int]]:
    """(whole minutes, cases) for the months' cases that reached `kind`."""
    query = (
        sa_select(col(DurationTally.minutes), func.sum(col(DurationTally.cases)))
        .where(col(DurationTally.month).in_(months), col(DurationTally.kind) == kind)
        .group_by(col(DurationTally.minutes))
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return [(int(m), int(n)) for m, n in rows]
