"""Labour and wage disputes: the particulars the mediation desk records on a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import assignment
from storage.cases.states import HANDLED
from storage.cases.workflow import record_event
from storage.errors import InvalidInput
from storage.models import Case, Dispute, Resident
from storage.people.roles import Authority

MAX_PEOPLE = 100_000
MAX_AMOUNT = 10_000_000_000  # yuan


async def record_dispute(
    session: AsyncSession,
    *,
    case: Case,
    actor: Resident,
    auth: Authority,
    parties: str,
    people: int,
    amount_yuan: int,
) -> Dispute:
    """Set (or correct) a dispute's parties, people involved and amount in yuan."""
    await assignment.require_handler(session, auth, case)
    parties = " ".join(parties.split())
    if not parties or len(parties) > 500:
        raise InvalidInput("bad_dispute")
    if not (1 <= people <= MAX_PEOPLE and 0 <= amount_yuan <= MAX_AMOUNT):
        raise InvalidInput("bad_dispute")
    assert case.id is not None
    dispute = await session.get(Dispute, case.id) or Dispute(case_id=case.id)
    dispute.parties, dispute.people_count, dispute.amount_yuan = parties, people, amount_yuan
    session.add(dispute)
    await record_event(
        session,
        case=case,
        actor=actor,
        kind="dispute",
        note=f"{people} / {amount_yuan} / {parties}",
        public=False,
    )
    return dispute


@dataclass(frozen=True)
class DisputeFigures:
    """Disputes resolved: recorded disputes whose case, filed in the period, is handled
    (resolved, or closed after resolution), with the people and yuan they involved."""

    resolved: int
    people: int
    amount_yuan: int


async def dispute_figures(
    session: AsyncSession, *, start: datetime, end: datetime
) -> DisputeFigures:
    query = (
        select(
            func.count(),
            func.coalesce(func.sum(Dispute.people_count), 0),
            func.coalesce(func.sum(Dispute.amount_yuan), 0),
        )
        .select_from(Dispute)
        .join(Case, col(Case.id) == Dispute.case_id)
        .where(
            col(Case.created_at) >= start,
            col(Case.created_at) < end,
            col(Case.status).in_(HANDLED),
        )
    )
    count, people, amount = (await session.exec(query)).one()
    return DisputeFigures(resolved=int(count), people=int(people), amount_yuan=int(amount))
