"""Residents' profiles, subscriptions and registered groups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import session_scope
from storage.errors import InvalidInput, NotAllowed
from storage.models import Group
from storage.people import profiles
from storage.people.roles import Authority, Role
from tests.storage.factories import resident

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
SECRETARY = Authority(resident_id=1, roles=frozenset({Role.RESIDENT, Role.SECRETARY}))
RESIDENT = Authority(resident_id=2, roles=frozenset({Role.RESIDENT}))


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("3号楼", "3"), ("3栋", "3"), (" Building 12 ", "12"), ("a座", "A"), ("B-2", "B-2")],
)
def test_buildings_are_kept_in_one_form(typed: str, kept: str) -> None:
    assert profiles.normalise_building(typed) == kept


@pytest.mark.parametrize("typed", ["", "   ", "号楼", "3/4", "x" * 17, "🏠"])
def test_a_building_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        profiles.normalise_building(typed)


def test_units_and_phones() -> None:
    assert profiles.normalise_unit("2单元") == "2"
    assert profiles.masked_phone("13812345678") == "138****5678"
    assert profiles.masked_phone("+8613812345678") == "138****5678"
    assert profiles.masked_phone("+4915112345678") == "+49****5678"
    assert profiles.masked_phone(None) is None


async def test_home_phone_and_subscription(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        await profiles.set_home(s, resident=wang, building="3号楼", entrance="2单元")
        assert (wang.building, wang.entrance) == ("3", "2")
        await profiles.set_home(s, resident=wang, building="5")
        assert (wang.building, wang.entrance) == ("5", None)
        # Only one's own contact: someone else's card is refused and nothing is stored.
        with pytest.raises(NotAllowed):
            await profiles.set_phone(
                s, resident=wang, phone="13900001111", channel="telegram", owner_external_id="7"
            )
        with pytest.raises(NotAllowed):
            await profiles.set_phone(
                s, resident=wang, phone="13900001111", channel="telegram", owner_external_id=None
            )
        assert wang.phone is None
        await profiles.set_phone(
            s,
            resident=wang,
            phone="+86 139 0000 1111",
            channel="telegram",
            owner_external_id="1001",
        )
        assert wang.phone == "+8613900001111"
        assert await profiles.subscribe(s, resident=wang, now=NOW)
        assert not await profiles.subscribe(s, resident=wang, now=NOW)
        li = await resident(s, 1002)
        await profiles.set_home(s, resident=li, building="3")
        await profiles.subscribe(s, resident=li, now=NOW)
        zhao = await resident(s, 1003)
        await profiles.set_home(s, resident=zhao, building="3")
        assert [r.external_id for r in await profiles.subscribers(s)] == [1001, 1002]
        assert [r.external_id for r in await profiles.subscribers(s, buildings=["3"])] == [1002]
        assert await profiles.unsubscribe(s, resident=wang)
        assert not await profiles.unsubscribe(s, resident=wang)
        assert [r.external_id for r in await profiles.subscribers(s)] == [1002]


async def test_groups_are_registered_by_a_secretary_only(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        await resident(s, 1001)
        await resident(s, 1002)
        group = Group(external_id=-100500, title="3号楼邻里群")
        other = Group(external_id=-100501, title="闲聊群")
        s.add_all([group, other])
        await s.flush()
        with pytest.raises(NotAllowed):
            await profiles.register_group(s, group=group, by=RESIDENT, buildings=["3"], now=NOW)
        assert await profiles.registered_groups(s) == []
        await profiles.register_group(
            s, group=group, by=SECRETARY, buildings=["12号楼", "3栋", "3"], now=NOW
        )
        assert group.buildings == ["3", "12"] and group.registered_at == NOW
        assert [g.id for g in await profiles.registered_groups(s)] == [group.id]
        assert await profiles.registered_groups(s, ids=[other.id or 0]) == []
        assert await profiles.known_buildings(s) == ["3", "12"]
        with pytest.raises(InvalidInput):
            await profiles.register_group(s, group=group, by=SECRETARY, buildings=["?"], now=NOW)
        with pytest.raises(NotAllowed):
            await profiles.unregister_group(s, group=group, by=RESIDENT)
        assert await profiles.unregister_group(s, group=group, by=SECRETARY)
        assert await profiles.registered_groups(s) == [] and group.buildings == []
