"""The office's own commands: /invite and its links, /staff, /revoke, and the /duty roster."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.conversation import Speaker, Turn
from handlers.office.admin_text import (
    describe_grant,
    explain_invalid,
    invite_usage,
    parse_role,
    parse_unit,
    person_name,
    refusal,
    render_roster,
    render_staff,
    role_label,
    role_list,
    unit_list,
    unknown_person,
)
from handlers.words.render import local_time
from storage.cases import assignment, duty, routing
from storage.cases.duty import NotMediator
from storage.errors import InvalidInput, NotAllowed
from storage.models import Case, Resident, Unit
from storage.people import identities, invitations, roles
from storage.people.invitations import InvitationInvalid
from storage.people.roles import GRANTABLE, Role
from storage.people.units import get_unit

logger = logging.getLogger(__name__)

ROSTER_DAYS = 7
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ANY_ROLE = (Role.SECRETARY, Role.MEDIATOR, Role.STAFF, Role.INSPECTOR)
Action = Callable[[], Awaitable[str]]


async def _office(turn: Turn, who: Speaker, needs: tuple[Role, ...], action: Action) -> str:
    """Private chat and the role, checked on the server; otherwise a polite answer."""
    if not turn.private:  # links, ids and names are not for a group to read
        return who._("I answer this only in a private chat with you.")
    try:
        who.auth.require(*needs)
    except NotAllowed:
        logger.info("resident %s refused: needs %s", who.resident.id, "/".join(needs))
        return refusal(who.lang)
    return await action()


async def invite(turn: Turn) -> None:
    """/invite <role> [unit code]: a one-time link that gives its opener a role (secretaries)."""
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        text = await _office(
            turn, who, (Role.SECRETARY,), lambda: _invite(session, who, args, turn)
        )
    await turn.reply(text)


async def _invite(session: AsyncSession, who: Speaker, args: list[str], turn: Turn) -> str:
    _ = who._
    units = await routing.all_units(session)
    role = parse_role(args[0]) if args else None
    unit: Unit | None = None
    if role is None or role not in GRANTABLE:
        return invite_usage(units, who.lang)
    if len(args) > 1:
        unit = parse_unit(" ".join(args[1:]), units)
        if unit is None:
            return _('There is no unit "{given}". Units: {units}').format(
                given=" ".join(args[1:])[:40], units=unit_list(units, who.lang)
            )
    try:
        invitation = await invitations.create_invitation(
            session, role=role, unit=unit, by=who.resident
        )
    except InvalidInput as error:
        return explain_invalid(error.reason, units, who.lang)
    granted_unit = await get_unit(session, unit_id=invitation.unit_id)
    return _(
        "Invitation: {grant}\nIt works once, until {until}. Send this link only to the "
        "person it is for:\n{link}"
    ).format(
        grant=describe_grant(role, granted_unit, who.lang),
        until=local_time(invitation.expires_at, turn.settings.tz),
        link=turn.link(f"inv_{invitation.code}"),
    )


async def redeem_link(turn: Turn, code: str) -> None:
    """/start inv_<code>: someone opened an invitation link."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            grant = await invitations.redeem(session, code=code, resident=who.resident)
        except InvitationInvalid:
            logger.info("resident %s opened a used, expired or unknown invitation", who.resident.id)
            text = _(
                "Sorry, this invitation has been used or has expired. Please ask the "
                "community office for a new link."
            )
        else:
            unit = await get_unit(session, unit_id=grant.unit_id)
            role = role_label(Role(grant.role), who.lang)
            text = (
                _("You are now {role} of {unit}.").format(role=role, unit=unit.name(who.lang))
                if unit
                else _("You are now {role}.").format(role=role)
            )
    await turn.reply(text)


async def staff(turn: Turn) -> None:
    """/staff: everyone with a role, by unit (secretaries)."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)

        async def action() -> str:
            admins = turn.settings.admins
            entries = await invitations.staff_directory(session, admin_ids=admins)
            return render_staff(entries, who.lang)

        text = await _office(turn, who, (Role.SECRETARY,), action)
    await turn.reply(text)


async def revoke(turn: Turn) -> None:
    """/revoke <telegram id or @username> <role>: end someone's role (secretaries)."""
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        text = await _office(
            turn, who, (Role.SECRETARY,), lambda: _revoke(session, who, args, turn)
        )
    await turn.reply(text)


async def _revoke(session: AsyncSession, who: Speaker, args: list[str], turn: Turn) -> str:
    _ = who._
    role = parse_role(args[1]) if len(args) == 2 else None
    if role is None or role not in GRANTABLE:
        return _(
            "Send it like this: /revoke <telegram id or @username> <role>\nRoles: {roles}"
        ).format(roles=role_list(who.lang))
    person = await invitations.find_person(session, args[0])
    if person is None:
        return unknown_person(who.lang, args[0])
    name, label = person_name(person), role_label(role, who.lang)
    admin = await identities.is_admin(session, resident=person, admin_ids=turn.settings.admins)
    if role == Role.SECRETARY and admin:
        # the setting outranks the table: a revoked grant would come back on their next message
        return _("{name} is a secretary through the YISHI_ADMINS setting; change it there.").format(
            name=name
        )
    if not await roles.revoke(session, resident=person, role=role, by=who.resident):
        return _("{name} does not hold the role {role}.").format(name=name, role=label)
    returned: list[Case] = []
    if role == Role.MEDIATOR:  # an ended mediator must not stay on the desk's roster
        today = turn.today()
        await duty.clear_future_duty(session, mediator=person, start=today)
        returned = await assignment.return_to_desk(
            session, mediator=person, actor=who.resident, today=today
        )
    logger.info("resident %s revoked %s from %s", who.resident.id, role, person.id)
    text = _("{name} is no longer {role}.").format(name=name, role=label)
    if returned:
        cases = ", ".join(f"#{case.id}" for case in returned)
        text += "\n" + _("Their open disputes went back to the mediation desk: {cases}.").format(
            cases=cases
        )
    return text


async def duty_roster(turn: Turn) -> None:
    """/duty: this week's mediation desk; `/duty fill`, `/duty <date> <who> [<who>]` edit it."""
    args = turn.args
    needs = ANY_ROLE if not args else (Role.SECRETARY,)
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        text = await _office(turn, who, needs, lambda: _duty(session, who, args, turn))
    await turn.reply(text)


async def _duty(session: AsyncSession, who: Speaker, args: list[str], turn: Turn) -> str:
    _ = who._
    today = turn.today()
    head = ""
    if args == ["fill"]:
        filled = await duty.fill_default_rotation(session, start=today, days=ROSTER_DAYS)
        head = _("Filled {count} empty days with the default rotation.").format(count=len(filled))
    elif args:
        done, head = await _set_day(session, who, args, today)
        if not done:
            return head
    days = await duty.roster(session, start=today, days=ROSTER_DAYS)
    body = render_roster(days, who.lang, hint=who.auth.is_secretary)
    return f"{head}\n\n{body}" if head else body


async def _set_day(
    session: AsyncSession, who: Speaker, args: list[str], today: date
) -> tuple[bool, str]:
    """`<YYYY-MM-DD> <who> [<who>]`: that day's mediators; (done, what to say)."""
    _ = who._
    day = date.fromisoformat(args[0]) if DAY.match(args[0]) and _valid_day(args[0]) else None
    if day is None or not 2 <= len(args) <= 3:
        return False, _("Send it like this: /duty 2025-06-01 @username [@username], or /duty fill.")
    if day < today:
        return False, _("{day} has passed; choose today or a later day.").format(day=args[0])
    people: list[Resident] = []
    for handle in args[1:]:
        person = await invitations.find_person(session, handle)
        if person is None:
            return False, unknown_person(who.lang, handle)
        people.append(person)
    try:
        await duty.set_duty(session, day=day, mediators=people)
    except NotMediator as error:
        return False, _("{name} is not a mediator. Invite them first: /invite mediator").format(
            name=person_name(error.resident)
        )
    names = ", ".join(person_name(p) for p in people)
    return True, _("On duty on {day}: {names}.").format(day=day.isoformat(), names=names)


def _valid_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
