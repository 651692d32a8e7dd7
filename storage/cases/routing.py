"""Handling units and the category -> unit routing table, seeded from storage/defaults.toml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases.categories import load_defaults
from storage.models import Case, Category, DutySlot, Resident, Route, Unit
from storage.people.units import MEDIATION as MEDIATION  # the office's units, re-exported
from storage.people.units import all_units as all_units
from storage.people.units import is_mediation as is_mediation
from storage.people.units import unit_by_code as unit_by_code

DEFAULT_DUE_HOURS = 72


@dataclass(frozen=True)
class Routing:
    unit: Unit
    due: timedelta


async def seed_units_and_routes(session: AsyncSession) -> int:
    """Add missing default units and routes; existing rows (a secretary's edits) are kept."""
    defaults = load_defaults()
    units = {u.code: u for u in (await session.exec(select(Unit))).all()}
    added = 0
    for item in defaults.get("unit", []):
        if item["code"] not in units:
            unit = Unit(code=item["code"], name_zh=item["zh"], name_en=item["en"])
            session.add(unit)
            units[unit.code] = unit
            added += 1
    await session.flush()
    categories = {c.code: c for c in (await session.exec(select(Category))).all()}
    routed = set((await session.exec(select(Route.category_id))).all())
    for item in defaults.get("route", []):
        category = categories.get(item["category"])
        if category is None or category.id in routed:
            continue
        unit_id = units[item["unit"]].id
        assert category.id is not None and unit_id is not None
        session.add(Route(category_id=category.id, unit_id=unit_id, due_hours=item["due_hours"]))
        added += 1
    await session.flush()
    return added


async def route_for(session: AsyncSession, *, category_id: int) -> Routing | None:
    route = await session.get(Route, category_id)
    if route is None:
        return None
    unit = await session.get(Unit, route.unit_id)
    assert unit is not None
    return Routing(unit=unit, due=timedelta(hours=route.due_hours))


async def set_route(
    session: AsyncSession, *, category_id: int, unit_id: int, due_hours: int
) -> Route:
    """A secretary's edit of the routing table."""
    route = await session.get(Route, category_id)
    if route is None:
        route = Route(category_id=category_id, unit_id=unit_id, due_hours=due_hours)
    else:
        route.unit_id, route.due_hours = unit_id, due_hours
    session.add(route)
    await session.flush()
    return route


async def on_duty(session: AsyncSession, *, day: date) -> list[Resident]:
    """The mediators staffing the mediation desk on a local day."""
    query = (
        select(Resident)
        .join(DutySlot, col(DutySlot.mediator_id) == Resident.id)
        .where(DutySlot.day == day)
        .order_by(col(DutySlot.id))
    )
    return list((await session.exec(query)).all())


async def unit_of(session: AsyncSession, case: Case) -> Unit | None:
    return await session.get(Unit, case.unit_id) if case.unit_id else None
