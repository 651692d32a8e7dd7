"""Times from filing to first response and to resolution: median and 90th percentile.

A duration is counted in whole minutes (the seconds' fractions of both times dropped), shown
in hours. The median and 90th percentile are by the nearest-rank method (the value at rank
ceil(p * n) of the sorted durations), worked out here from a histogram of minutes: read live
from the cases (one grouped pass), or summed from the rollup's monthly tallies
(storage/figures/stats_rollup.py). Both give the same minutes, so the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.figures.stats_rollup import minutes_sql
from storage.models import Case


@dataclass(frozen=True)
class Durations:
    """Hours from filing to an event, over the period's cases that reached it; median and
    90th percentile by the nearest-rank method (the same on SQLite and PostgreSQL)."""

    count: int
    median_hours: float | None
    p90_hours: float | None


def nearest_rank(histogram: list[tuple[int, int]]) -> Durations:
    """The durations of a histogram of (whole minutes, how many cases)."""
    count = sum(n for _, n in histogram)
    if not count:
        return Durations(0, None, None)
    ranks = [max(1, -(-count * tenths // 10)) for tenths in (5, 9)]  # ceil(p * n)
    found: list[float] = []
    seen = 0
    for minutes, n in sorted(histogram):
        seen += n
        while len(found) < len(ranks) and seen >= ranks[len(found)]:
            found.append(minutes / 60)
    return Durations(count, found[0], found[1])


async def live_minutes(session: AsyncSession, scope: Any, later: Any) -> list[tuple[int, int]]:
    """(whole minutes, cases) from Case.created_at to `later`, over the cases in `scope`."""
    minutes = minutes_sql(later, col(Case.created_at), session.get_bind().dialect.name)
    query = (
        sa_select(minutes, func.count()).where(and_(scope, later.is_not(None))).group_by(minutes)
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return [(int(m), int(n)) for m, n in rows]
