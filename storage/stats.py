"""The office's headline figures, computed from the case store with written definitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import Status
from storage.models import Case

# Accepted (受理): cases filed in the period, except those rejected or marked duplicate: a
# refused or repeated report is not a demand the office took on.
NOT_ACCEPTED = (Status.REJECTED, Status.DUPLICATE)
# Handled (办结): of those, the ones now resolved, or closed after being resolved (in Yishi
# "closed" is only reachable from "resolved"). Reopened cases are not handled: the resident
# said it is not fixed. The rate is handled / accepted.
HANDLED = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class DemandFigures:
    accepted: int
    handled: int

    @property
    def completion_rate(self) -> float | None:
        """Handled / accepted, as a fraction; None when nothing was accepted."""
        return self.handled / self.accepted if self.accepted else None


async def demand_figures(session: AsyncSession, *, start: datetime, end: datetime) -> DemandFigures:
    """Cases filed in [start, end)."""
    in_period = (col(Case.created_at) >= start) & (col(Case.created_at) < end)
    accepted = in_period & col(Case.status).not_in(NOT_ACCEPTED)
    count = select(func.count()).select_from(Case)
    total = (await session.exec(count.where(accepted))).one()
    handled = (await session.exec(count.where(accepted & col(Case.status).in_(HANDLED)))).one()
    return DemandFigures(accepted=int(total), handled=int(handled))
