"""The figures' counts read live from the cases, for periods the rollup does not serve (a
range of days) and for checking the rollup (storage/figures/stats.py, `rollup=False`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case

INSPECTION = "inspection"


async def live_groups(
    session: AsyncSession, scope: Any
) -> list[tuple[int, str, bool, int, int, int]]:
    """(category id, status, inspection, cases, rated, stars) over the cases in `scope`: one
    grouped pass gives every count, the satisfaction and the by-category table."""
    inspection = col(Case.source) == INSPECTION
    query = (
        sa_select(
            col(Case.category_id),
            col(Case.status),
            inspection,
            func.count(),
            func.count(col(Case.satisfaction)),
            func.coalesce(func.sum(col(Case.satisfaction)), 0),
        )
        .where(scope)
        .group_by(col(Case.category_id), col(Case.status), inspection)
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return [(c, s, bool(i), int(n), int(r), int(t)) for c, s, i, n, r, t in rows]


async def live_trend(
    session: AsyncSession,
    ranges: list[tuple[str, Any]],
    *,
    not_accepted: Sequence[str],
    handled: Sequence[str],
) -> dict[str, tuple[int, int]]:
    """Per (label, where): residents' cases accepted, and of those handled. Range sums in one
    statement, each an index range (a CASE bucket over a year made one slow pass)."""
    accepted = and_(col(Case.status).not_in(not_accepted), col(Case.source) != INSPECTION)
    done = and_(accepted, col(Case.status).in_(handled))
    sums = [
        sa_select(
            literal(i),
            func.coalesce(func.sum(case((accepted, 1), else_=0)), 0),
            func.coalesce(func.sum(case((done, 1), else_=0)), 0),
        ).where(where)
        for i, (_, where) in enumerate(ranges)
    ]
    rows = (await session.exec(union_all(*sums))).all()  # type: ignore[call-overload]
    return {ranges[int(i)][0]: (int(a), int(h)) for i, a, h in rows}
