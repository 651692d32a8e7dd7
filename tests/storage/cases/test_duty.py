"""The mediation desk roster: only mediators, days replaced whole, a fair default rotation."""

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.cases import duty
from storage.cases.routing import on_duty, unit_by_code
from storage.db import session_scope
from storage.errors import NotAllowed
from storage.people import roles
from storage.people.roles import Role
from tests.storage.factories import resident

DAY = date(2030, 6, 3)


async def _mediators(session, count: int, first_id: int = 3000):
    mediation = await unit_by_code(session, "mediation")
    people = []
    for i in range(count):
        person = await resident(session, first_id + i)
        await roles.grant(session, resident=person, role=Role.MEDIATOR, unit_id=mediation.id)
        people.append(person)
    return people


async def test_set_duty_replaces_the_day(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        a, b, c = await _mediators(s, 3)
        await duty.set_duty(s, day=DAY, mediators=[a, b])
        await duty.set_duty(s, day=DAY, mediators=[c, a, c])
        assert [p.id for p in await on_duty(s, day=DAY)] == [c.id, a.id]
        assert await on_duty(s, day=DAY + timedelta(days=1)) == []


async def test_only_mediators_go_on_duty(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        (a,) = await _mediators(s, 1)
        li = await resident(s, 1002)
        await roles.grant(s, resident=li, role=Role.STAFF, unit_id=1)
        await duty.set_duty(s, day=DAY, mediators=[a])
        with pytest.raises(NotAllowed):
            await duty.set_duty(s, day=DAY, mediators=[a, li])
        with pytest.raises(NotAllowed):
            await duty.add_duty(s, day=DAY, mediator=li)
        await roles.revoke(s, resident=a, role=Role.MEDIATOR)
        with pytest.raises(duty.NotMediator):
            await duty.add_duty(s, day=DAY + timedelta(days=1), mediator=a)
        assert [p.id for p in await on_duty(s, day=DAY)] == [a.id]  # the refusal changed nothing


async def test_add_remove_and_roster(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        a, b = await _mediators(s, 2)
        await duty.add_duty(s, day=DAY, mediator=a)
        await duty.add_duty(s, day=DAY, mediator=a)  # idempotent
        await duty.add_duty(s, day=DAY, mediator=b)
        await duty.add_duty(s, day=DAY + timedelta(days=2), mediator=b)
        assert await duty.remove_duty(s, day=DAY, mediator=a)
        assert not await duty.remove_duty(s, day=DAY, mediator=a)
        week = await duty.roster(s, start=DAY, days=3)
    assert list(week) == [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]
    assert [[p.id for p in people] for people in week.values()] == [[b.id], [], [b.id]]


async def test_default_rotation_fills_empty_days_two_a_day(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        people = await _mediators(s, 3)
        await duty.set_duty(s, day=DAY + timedelta(days=1), mediators=[people[0]])
        filled = await duty.fill_default_rotation(s, start=DAY, days=7)
        week = await duty.roster(s, start=DAY, days=7)
        assert await duty.fill_default_rotation(s, start=DAY, days=7) == []
    assert len(filled) == 6 and DAY + timedelta(days=1) not in filled
    assert [p.id for p in week[DAY + timedelta(days=1)]] == [people[0].id]  # kept as set
    for day in filled:
        assert len({p.id for p in week[day]}) == 2
    # over three rotated days each of the three mediators serves twice
    three = [DAY + timedelta(days=n) for n in (2, 3, 4)]
    assert set(Counter(p.id for d in three for p in week[d]).values()) == {2}


async def test_rotation_with_too_few_mediators(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        assert await duty.fill_default_rotation(s, start=DAY, days=3) == []
        (only,) = await _mediators(s, 1)
        assert len(await duty.fill_default_rotation(s, start=DAY, days=3)) == 3
        assert [p.id for p in await on_duty(s, day=DAY)] == [only.id]


async def test_clear_future_duty(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        a, b = await _mediators(s, 2)
        for offset in range(3):
            await duty.set_duty(s, day=DAY + timedelta(days=offset), mediators=[a, b])
        assert await duty.clear_future_duty(s, mediator=a, start=DAY + timedelta(days=1)) == 2
        week = await duty.roster(s, start=DAY, days=3)
    assert [[p.id for p in people] for people in week.values()] == [[a.id, b.id], [b.id], [b.id]]
