"""Onboarding through invitation links, the staff list, revoking, and the mediation roster.

Chinese readers' expected words come from the bot's own translator (so the checks hold before
and after the catalogs are updated); Alice and Chen read English, checked word for word.
"""

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.telegram.emulator import Emulator
from handlers.office.admin_text import refusal
from handlers.words.i18n import translator
from storage.cases.routing import unit_by_code
from storage.db import create_engine, session_scope
from storage.models import DutySlot, Invitation, Resident, RoleGrant, Unit, utcnow
from storage.people import find_resident, roles
from storage.people.invitations import redeem
from storage.people.roles import Role
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest, make_emulator, texts

CHEN = 1005  # reads English and has a @username
LINK = re.compile(r"https://t\.me/yishi_bot\?start=inv_([A-Za-z0-9_-]{1,32})")
ROSTER_LINE = re.compile(r"^\d\d-\d\d \S+: (.+)$")
zh = translator("zh")
USED = (
    "Sorry, this invitation has been used or has expired. Please ask the community office "
    "for a new link."
)


@pytest.fixture
def emu() -> Emulator:
    emu = make_emulator()
    emu.add_user(CHEN, "Chen", last_name="Jie", username="chen_jie", language_code="en")
    return emu


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """Wang is a secretary by configuration (YISHI_ADMINS)."""
    under_test = BotUnderTest(emu, database_url, admins=frozenset({WANG}))
    await under_test.start()
    yield under_test
    await under_test.stop()


async def first(bot: BotUnderTest, user: int, text: str, chat: int | None = None) -> str:
    return texts(await bot.say(user, text, chat=chat))[0]


async def invite(bot: BotUnderTest, command: str, user: int = WANG) -> str:
    answer = await first(bot, user, command)
    match = LINK.search(answer)
    assert match, answer
    return match[1]


async def as_role(bot: BotUnderTest, user: int, role: Role | None) -> None:
    """Register someone and give them a role directly (invitations have their own tests)."""
    await bot.say(user, "/start")
    if role is None:
        return
    async with session_scope(bot.engine) as s:
        person = await find_resident(s, channel="telegram", external_id=str(user))
        unit = await unit_by_code(s, "mediation" if role == Role.MEDIATOR else "property")
        unit_id = unit.id if role in (Role.STAFF, Role.MEDIATOR) else None
        await roles.grant(s, resident=person, role=role, unit_id=unit_id)


async def roles_of(bot: BotUnderTest, user: int) -> set[tuple[str, str | None]]:
    query = (
        select(RoleGrant.role, Unit.code)
        .join(Resident, col(RoleGrant.resident_id) == Resident.id)
        .outerjoin(Unit, col(RoleGrant.unit_id) == Unit.id)
        .where(Resident.external_id == user, col(RoleGrant.revoked_at).is_(None))
    )
    async with session_scope(bot.engine) as s:
        return set((await s.exec(query)).all())


async def snapshot(bot: BotUnderTest) -> list[object]:
    """Everything the office commands could change (sessions one after another: SQLite's
    in-process writer lock is not re-entrant)."""
    grants = sorted(await roles_of(bot, LI) | await roles_of(bot, ZHAO), key=str)
    async with session_scope(bot.engine) as s:
        return [
            (await s.exec(select(func.count()).select_from(Invitation))).one(),
            grants,
            sorted((await s.exec(select(DutySlot.day, DutySlot.mediator_id))).all()),
        ]


def roster(text: str) -> list[list[str]]:
    lines = [ROSTER_LINE.match(line) for line in text.splitlines()]
    return [m[1].split(", ") for m in lines if m]


def local_day(bot: BotUnderTest, days: int = 0) -> str:
    return (datetime.now(bot.settings.tz).date() + timedelta(days=days)).isoformat()


async def test_secretary_invites_staff_and_the_link_works_once(bot: BotUnderTest) -> None:
    answer = await first(bot, WANG, "/invite staff property")
    code = LINK.search(answer)[1]
    until = (utcnow() + timedelta(days=7)).astimezone(bot.settings.tz).strftime("%Y-%m-%d %H")
    assert "物业服务公司" in answer and until in answer
    assert await first(bot, LI, f"/start inv_{code}") == zh("You are now {role} of {unit}.").format(
        role=zh("Staff"), unit="物业服务公司"
    )
    assert await roles_of(bot, LI) == {("staff", "property")}
    # the same link again, or opened by someone else, grants nothing
    assert await first(bot, ZHAO, f"/start inv_{code}") == zh(USED)
    assert await first(bot, LI, f"/start inv_{code}") == zh(USED)
    assert await roles_of(bot, ZHAO) == set()
    # the staff list shows Li under the property company
    listing = (await first(bot, WANG, "/staff")).splitlines()
    li_line = next(i for i, line in enumerate(listing) if f"id {LI}" in line)
    assert listing.index("物业服务公司") == li_line - 1 and "李 强" in listing[li_line]
    assert any(f"id {WANG}" in line for line in listing)
    assert not any(f"id {ZHAO}" in line for line in listing)


async def test_an_english_secretary_invites_a_mediator(bot: BotUnderTest) -> None:
    await as_role(bot, ALICE, Role.SECRETARY)
    answer = await first(bot, ALICE, "/invite mediator")
    assert answer.startswith("Invitation: Mediator · Mediation desk\nIt works once, until 20")
    code = LINK.search(answer)[1]
    assert await first(bot, CHEN, f"/start inv_{code}") == "You are now Mediator of Mediation desk."
    assert await roles_of(bot, CHEN) == {("mediator", "mediation")}
    # a unit may be named by its code or its name in either language, a role by its label
    assert LINK.search(await first(bot, ALICE, "/invite Staff Property service company"))
    assert LINK.search(await first(bot, ALICE, "/invite inspector"))


async def test_an_expired_or_unknown_link_is_refused(bot: BotUnderTest) -> None:
    code = await invite(bot, "/invite staff property")
    async with session_scope(bot.engine) as s:
        row = (await s.exec(select(Invitation).where(Invitation.code == code))).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
        s.add(row)
    assert await first(bot, LI, f"/start inv_{code}") == zh(USED)
    assert await first(bot, LI, "/start inv_made-up") == zh(USED)
    assert await roles_of(bot, LI) == set()


async def test_bad_invitations_are_explained(bot: BotUnderTest) -> None:
    await as_role(bot, ALICE, Role.SECRETARY)
    before = await snapshot(bot)
    usage = await first(bot, ALICE, "/invite")
    assert usage.startswith("Send it like this: /invite <role> [unit code]")
    assert "staff (Staff)" in usage and "property (Property service company)" in usage
    assert await first(bot, ALICE, "/invite janitor") == usage
    assert await first(bot, ALICE, "/invite resident") == usage
    assert (await first(bot, ALICE, "/invite staff")).startswith("Staff work in a unit")
    assert (await first(bot, ALICE, "/invite staff nowhere")).startswith(
        'There is no unit "nowhere". Units: property (Property service company)'
    )
    assert "mediation desk" in await first(bot, ALICE, "/invite mediator property")
    assert "whole office" in await first(bot, ALICE, "/invite secretary property")
    # in a group the link would be anyone's: not there
    in_group = await first(bot, WANG, "/invite staff property", chat=GROUP)
    assert in_group == zh("I answer this only in a private chat with you.")
    assert await snapshot(bot) == before


@pytest.mark.parametrize("role", [None, Role.STAFF, Role.MEDIATOR, Role.SECRETARY])
async def test_authorisation_matrix(bot: BotUnderTest, role: Role | None) -> None:
    """Li with each role tries every office command; refusals are polite and change nothing."""
    await as_role(bot, ZHAO, Role.MEDIATOR)
    await as_role(bot, LI, role)
    commands = {
        "/invite staff property": {Role.SECRETARY},
        "/staff": {Role.SECRETARY},
        f"/duty {local_day(bot, 3)} {ZHAO}": {Role.SECRETARY},
        "/duty fill": {Role.SECRETARY},
        "/duty": {Role.SECRETARY, Role.STAFF, Role.MEDIATOR},
        f"/revoke {ZHAO} mediator": {Role.SECRETARY},
    }
    for command, allowed in commands.items():
        before = await snapshot(bot)
        answer = await first(bot, LI, command)
        if role in allowed:
            assert answer != refusal("zh"), command
        else:
            assert answer == refusal("zh"), command
            assert await snapshot(bot) == before, command
    if role == Role.SECRETARY:
        assert await roles_of(bot, ZHAO) == set()


async def test_revoke(bot: BotUnderTest) -> None:
    await as_role(bot, LI, Role.STAFF)
    await as_role(bot, CHEN, Role.MEDIATOR)
    await first(bot, WANG, f"/duty {local_day(bot, 1)} @chen_jie")
    name_li = "李 强"
    assert await first(bot, WANG, f"/revoke {LI} staff") == zh(
        "{name} is no longer {role}."
    ).format(name=name_li, role=zh("Staff"))
    assert await roles_of(bot, LI) == set()
    assert await first(bot, LI, "/duty") == refusal("zh")
    assert await first(bot, WANG, f"/revoke {LI} staff") == zh(
        "{name} does not hold the role {role}."
    ).format(name=name_li, role=zh("Staff"))
    # a mediator whose role ends leaves the roster too; @usernames ignore case
    await first(bot, WANG, "/revoke @Chen_Jie mediator")
    assert await roles_of(bot, CHEN) == set() and (await snapshot(bot))[2] == []
    assert "@ghost" in await first(bot, WANG, "/revoke @ghost staff")
    assert "YISHI_ADMINS" in await first(bot, WANG, f"/revoke {WANG} secretary")
    assert await first(bot, WANG, "/staff") != refusal("zh")  # still a secretary
    assert "/revoke" in await first(bot, WANG, f"/revoke {LI}")


async def test_duty_roster_two_mediators_a_day(bot: BotUnderTest) -> None:
    for person in (ZHAO, CHEN, ALICE):
        await as_role(bot, person, Role.MEDIATOR)
    await as_role(bot, LI, Role.STAFF)
    empty = roster(await first(bot, WANG, "/duty"))
    assert empty == [[zh("nobody yet")]] * 7
    filled = roster(await first(bot, WANG, "/duty fill"))
    assert len(filled) == 7 and all(len(set(day)) == 2 for day in filled)
    assert {name for day in filled for name in day} == {"赵 敏", "Chen Jie", "Alice Smith"}
    # mediators and staff see the same week; no editing hints for them
    seen_by_chen = await first(bot, CHEN, "/duty")
    assert seen_by_chen.startswith("Mediation desk duty:") and "/duty fill" not in seen_by_chen
    assert roster(seen_by_chen) == filled == roster(await first(bot, LI, "/duty"))
    # a secretary sets one day; someone who is not a mediator is refused and nothing changes
    changed = roster(await first(bot, WANG, f"/duty {local_day(bot, 2)} @chen_jie {ZHAO}"))
    assert (
        changed[2] == ["Chen Jie", "赵 敏"] and changed[:2] + changed[3:] == filled[:2] + filled[3:]
    )
    before = await snapshot(bot)
    refused = await first(bot, WANG, f"/duty {local_day(bot, 2)} {LI}")
    assert refused == zh("{name} is not a mediator. Invite them first: /invite mediator").format(
        name="李 强"
    )
    for bad in (f"/duty {local_day(bot, -1)} {ZHAO}", "/duty 2030-02-30 @chen_jie", "/duty soon"):
        assert not roster(await first(bot, WANG, bad)), bad
    assert await snapshot(bot) == before


async def test_cli_invite_prints_a_link_that_works(database_url: str, tmp_path) -> None:
    env = {**os.environ, "YISHI_DATABASE_URL": database_url, "YISHI_BOT_USERNAME": "@yishi_bot"}

    def yishi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "--log-level", "WARNING", "invite", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    result = await asyncio.to_thread(yishi, "staff", "--unit", "property")
    assert result.returncode == 0, result.stderr
    code = LINK.search(result.stdout.splitlines()[0])[1]
    assert "grants staff of property once, until" in result.stdout
    refused = await asyncio.to_thread(yishi, "staff", "--unit", "nowhere")
    assert refused.returncode == 2 and "units: property" in refused.stderr
    engine = create_engine(database_url)
    try:
        async with session_scope(engine) as s:
            li = Resident(external_id=LI, name="李 强")
            s.add(li)
            await s.flush()
            grant = await redeem(s, code=code, resident=li)
            assert (grant.role, (await s.get(Unit, grant.unit_id)).code) == ("staff", "property")
    finally:
        await engine.dispose()
