"""The mediation desk roster: which mediators are on duty on each local day."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases.routing import on_duty
from storage.errors import NotAllowed
from storage.models import DutySlot, Resident
from storage.people import roles
from storage.people.roles import Role

logger = logging.getLogger(__name__)

PER_DAY = 2


class NotMediator(NotAllowed):
    """Only residents holding the mediator role may be put on duty."""

    def __init__(self, resident: Resident) -> None:
        super().__init__(f"resident {resident.id} is not a mediator")
        self.resident = resident


async def _require_mediators(session: AsyncSession, mediators: list[Resident]) -> None:
    allowed = {m.id for m in await roles.holders(session, role=Role.MEDIATOR)}
    for person in mediators:
        if person.id not in allowed:
            raise NotMediator(person)


def _unique(people: list[Resident]) -> list[Resident]:
    """The same person named twice is on duty once (the table allows one slot a day)."""
    return list({person.id: person for person in people}.values())


async def set_duty(session: AsyncSession, *, day: date, mediators: list[Resident]) -> None:
    """Replace the day's roster with these mediators, in this order."""
    people = _unique(mediators)
    await _require_mediators(session, people)
    clear = delete(DutySlot).where(col(DutySlot.day) == day)
    await session.exec(clear)
    for person in people:
        assert person.id is not None
        session.add(DutySlot(day=day, mediator_id=person.id))
    await session.flush()
    logger.info("duty on %s set to %s", day, [p.id for p in people])


async def add_duty(session: AsyncSession, *, day: date, mediator: Resident) -> DutySlot:
    """Put one mediator on duty (idempotent)."""
    await _require_mediators(session, [mediator])
    query = select(DutySlot).where(DutySlot.day == day, DutySlot.mediator_id == mediator.id)
    slot = (await session.exec(query)).first()
    if slot is None:
        assert mediator.id is not None
        slot = DutySlot(day=day, mediator_id=mediator.id)
        session.add(slot)
        await session.flush()
    return slot


async def remove_duty(session: AsyncSession, *, day: date, mediator: Resident) -> bool:
    """Take one mediator off a day; False if they were not on it."""
    statement = delete(DutySlot).where(
        col(DutySlot.day) == day, col(DutySlot.mediator_id) == mediator.id
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def clear_future_duty(session: AsyncSession, *, mediator: Resident, start: date) -> int:
    """Take someone off every day from `start` on (their mediator role ended)."""
    statement = delete(DutySlot).where(
        col(DutySlot.day) >= start, col(DutySlot.mediator_id) == mediator.id
    )
    result = await session.exec(statement)
    return int(result.rowcount)


async def roster(session: AsyncSession, *, start: date, days: int) -> dict[date, list[Resident]]:
    """Every day from `start` for `days` days, each with its mediators (maybe none)."""
    end = start + timedelta(days=days)
    query = (
        select(DutySlot, Resident)
        .join(Resident, col(DutySlot.mediator_id) == Resident.id)
        .where(col(DutySlot.day) >= start, col(DutySlot.day) < end)
        .order_by(col(DutySlot.day), col(DutySlot.id))
    )
    result: dict[date, list[Resident]] = {start + timedelta(days=i): [] for i in range(days)}
    for slot, person in (await session.exec(query)).all():
        result[slot.day].append(person)
    return result


async def fill_default_rotation(
    session: AsyncSession, *, start: date, days: int, per_day: int = PER_DAY
) -> list[date]:
    """Rotate the active mediators `per_day` a day over the empty days; returns days filled.

    The rotation is anchored to the calendar (the day's ordinal), not to `start`, so filling
    overlapping ranges on different days never hands the same pair two days running.
    """
    mediators = await roles.holders(session, role=Role.MEDIATOR)
    if not mediators or per_day < 1:
        return []
    count = min(per_day, len(mediators))
    filled: list[date] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        if await on_duty(session, day=day):
            continue
        first = day.toordinal() * count
        for i in range(count):
            person = mediators[(first + i) % len(mediators)]
            assert person.id is not None
            session.add(DutySlot(day=day, mediator_id=person.id))
        filled.append(day)
    await session.flush()
    logger.info("default rotation filled %d of %d days from %s", len(filled), days, start)
    return filled
