"""The office's handling units by code: people hold roles in them, cases are routed to them.

Below the routing table (storage/cases/routing.py re-exports these), so an invitation to a unit
needs nothing of cases.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Unit

MEDIATION = "mediation"


async def all_units(session: AsyncSession) -> list[Unit]:
    return list((await session.exec(select(Unit).order_by(col(Unit.id)))).all())


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    return (await session.exec(select(Unit).where(Unit.code == code))).first()


async def get_unit(session: AsyncSession, *, unit_id: int | None) -> Unit | None:
    """The unit with this id; None for none (a grant or invitation without a unit)."""
    return await session.get(Unit, unit_id) if unit_id else None


def is_mediation(unit: Unit | None) -> bool:
    return unit is not None and unit.code == MEDIATION
