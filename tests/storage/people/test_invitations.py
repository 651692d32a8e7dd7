"""Invitations grant a role once; the staff directory and finding people by id or @username."""

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage.cases.routing import unit_by_code
from storage.db import session_scope
from storage.errors import InvalidInput, StorageError
from storage.models import Invitation, RoleGrant, utcnow
from storage.people import roles
from storage.people.invitations import (
    InvitationInvalid,
    create_invitation,
    find_person,
    redeem,
    staff_directory,
)
from storage.people.roles import Role
from tests.storage.factories import resident


async def _invite(engine: AsyncEngine, role: Role = Role.STAFF, unit: str | None = "property"):
    async with session_scope(engine) as s:
        found = await unit_by_code(s, unit) if unit else None
        return await create_invitation(s, role=role, unit=found, by=None)


async def _grants(engine: AsyncEngine) -> list[tuple[int, str, int | None]]:
    async with session_scope(engine) as s:
        rows = (await s.exec(select(RoleGrant).order_by(RoleGrant.id))).all()
    return [(g.resident_id, g.role, g.unit_id) for g in rows]


async def test_code_fits_a_telegram_start_payload(engine: AsyncEngine) -> None:
    codes = {(await _invite(engine)).code for _ in range(5)}
    assert len(codes) == 5
    for code in codes:
        assert len(code) <= 32 and len(f"inv_{code}") <= 64
        assert re.fullmatch(r"[A-Za-z0-9_-]+", code)


async def test_redeem_grants_the_role_once(engine: AsyncEngine) -> None:
    invitation = await _invite(engine)
    async with session_scope(engine) as s:
        li, zhao = await resident(s, 1002), await resident(s, 1003)
        property_unit = await unit_by_code(s, "property")
        granted = await redeem(s, code=invitation.code, resident=li)
    assert (granted.role, granted.unit_id) == ("staff", property_unit.id)
    async with session_scope(engine) as s:
        with pytest.raises(InvitationInvalid):
            await redeem(s, code=invitation.code, resident=zhao)
        used = (await s.exec(select(Invitation))).one()
    assert used.used_by_id == li.id and used.used_at is not None
    assert await _grants(engine) == [(li.id, "staff", property_unit.id)]


@pytest.mark.parametrize("code", ["nope", "", "a" * 40, "inv_x", "bad code!", "../../etc"])
async def test_unknown_or_malformed_codes_are_refused(engine: AsyncEngine, code: str) -> None:
    await _invite(engine)
    async with session_scope(engine) as s:
        li = await resident(s, 1002)
        with pytest.raises(StorageError):
            await redeem(s, code=code, resident=li)
    assert await _grants(engine) == []


async def test_an_expired_code_is_refused(engine: AsyncEngine) -> None:
    invitation = await _invite(engine)
    async with session_scope(engine) as s:
        row = await s.get(Invitation, invitation.id)
        row.expires_at = utcnow() - timedelta(seconds=1)
        s.add(row)
    async with session_scope(engine) as s:
        li = await resident(s, 1002)
        with pytest.raises(InvitationInvalid):
            await redeem(s, code=invitation.code, resident=li)
    assert await _grants(engine) == []


async def test_two_residents_racing_for_one_code_exactly_one_wins(engine: AsyncEngine) -> None:
    invitation = await _invite(engine, Role.MEDIATOR, None)
    async with session_scope(engine) as s:
        racers = [await resident(s, 2000 + i) for i in range(4)]

    async def attempt(person) -> bool:
        try:
            async with session_scope(engine) as s:
                await redeem(s, code=invitation.code, resident=person)
                await asyncio.sleep(0.01)  # hold the claim open while the others try
        except InvitationInvalid:
            return False
        return True

    results = await asyncio.gather(*(attempt(p) for p in racers))
    assert sorted(results) == [False, False, False, True]
    winner = racers[results.index(True)]
    assert [g[0] for g in await _grants(engine)] == [winner.id]


async def test_which_roles_need_which_unit(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        property_unit = await unit_by_code(s, "property")
        mediation = await unit_by_code(s, "mediation")
        for role, unit, reason in [
            (Role.STAFF, None, "needs_unit"),
            (Role.MEDIATOR, property_unit, "mediation_only"),
            (Role.SECRETARY, property_unit, "no_unit"),
            (Role.RESIDENT, None, "role"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await create_invitation(s, role=role, unit=unit, by=None)
            assert refused.value.reason == reason
        mediator = await create_invitation(s, role=Role.MEDIATOR, unit=None, by=None)
        inspector = await create_invitation(s, role=Role.INSPECTOR, unit=None, by=None)
    assert mediator.unit_id == mediation.id and inspector.unit_id is None


async def test_staff_directory_and_finding_people(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li, zhao = [await resident(s, n) for n in (1001, 1002, 1003)]
        li.username = "Li_Qiang"
        property_unit = await unit_by_code(s, "property")
        await roles.grant(s, resident=li, role=Role.STAFF, unit_id=property_unit.id)
        await roles.grant(s, resident=zhao, role=Role.MEDIATOR, unit_id=None)
        await roles.revoke(s, resident=zhao, role=Role.MEDIATOR)
        entries = await staff_directory(s, admin_ids=frozenset({1001, 9999}))
        assert {(e.resident.id, e.role, e.unit and e.unit.code) for e in entries} == {
            (li.id, Role.STAFF, "property"),
            (wang.id, Role.SECRETARY, None),
        }
        assert (await find_person(s, "@li_qiang")).id == li.id
        assert (await find_person(s, "1003")).id == zhao.id
        for unknown in ("@nobody", "42", "li_qiang", "@x", "12345678901234567890", ""):
            assert await find_person(s, unknown) is None
