"""Secretaries in chat: /queue, /assign, /recategorise, /reject, /duplicate, /overdue."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.cases.refs import explain_refusal, parse_case_number
from handlers.conversation import Speaker, Turn
from handlers.words.i18n import N_
from handlers.words.render import local_time
from storage import cases
from storage.cases import assignment, categories, deadlines, routing, workflow
from storage.errors import InvalidInput, NotAllowed, StorageError
from storage.models import utcnow
from storage.people import invitations
from storage.people.roles import Role

USAGE = {
    "assign": N_("Send it like this: /assign 27 property (a unit code) or /assign 27 @username"),
    "recategorise": N_("Send it like this: /recategorise 27 safety (a category code)"),
    "reject": N_("Send it like this: /reject 27 reason | who is responsible instead"),
    "duplicate": N_("Send it like this: /duplicate 27 12 (case 27 is the same as case 12)"),
}


async def queue(turn: Turn) -> None:
    """/queue: new cases that no unit has yet, oldest first."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        waiting = await assignment.triage_queue(session) if who.auth.is_secretary else None
    _ = who._
    if waiting is None:
        text = _("This is for community office staff.")
    elif not waiting:
        text = _("No case is waiting for triage.")
    else:
        tz = turn.settings.tz
        lines = [_("Waiting for triage (oldest first):")]
        lines += [f"#{c.id} · {local_time(c.created_at, tz)} · {c.text[:50]}" for c in waiting]
        lines.append(_("Use /assign, /recategorise, /reject or /duplicate."))
        text = "\n".join(lines)
    await turn.reply(text)


async def overdue(turn: Turn) -> None:
    """/overdue: open cases past their due time (secretaries: all; staff: their unit's)."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        late = await deadlines.overdue(session, now=utcnow())
        unit_ids = who.auth.unit_ids
        if not who.auth.is_secretary:
            late = [c for c in late if c.unit_id in unit_ids or c.assignee_id == who.resident.id]
    _ = who._
    if not (who.auth.is_secretary or who.auth.is_handler):
        text = _("This is for community office staff.")
    elif not late:
        text = _("No case is overdue.")
    else:
        now = datetime.now(turn.settings.tz)
        lines = [_("Overdue cases:")]
        for case in late:
            assert case.due_at is not None
            hours = round((now - case.due_at).total_seconds() / 3600)
            lines.append(
                _("#{number} · {hours} h late · {text}").format(
                    number=case.id, hours=hours, text=case.text[:40]
                )
            )
        text = "\n".join(lines)
    await turn.reply(text)


async def secretary_command(turn: Turn) -> None:
    """/assign, /recategorise, /reject, /duplicate: one parser, one transaction each."""
    assert turn.msg.command is not None
    name = turn.msg.command
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        try:
            who.auth.require(Role.SECRETARY)
            text = await _apply(session, who, name, args, turn)
        except NotAllowed:
            text = who._("This is for community office staff.")
        except (InvalidInput, ValueError, IndexError):
            text = who._(USAGE[name])
        except StorageError as error:
            text = explain_refusal(error, who)
    await turn.reply(text)


async def _apply(
    session: AsyncSession, who: Speaker, name: str, args: list[str], turn: Turn
) -> str:
    _ = who._
    number = parse_case_number(args[0]) if args else None
    if number is None or len(args) < 2:
        raise InvalidInput("usage")
    case = await cases.get_case(session, number=number)
    me, auth = who.resident, who.auth
    if name == "assign":
        unit = await routing.unit_by_code(session, args[1].lower())
        # a Telegram user id or @username of someone who has written to the bot
        person = None if unit else await invitations.find_person(session, args[1])
        if unit is None and person is None:
            raise InvalidInput("usage")
        await assignment.assign(
            session, case=case, unit=unit, person=person, actor=me, today=turn.today()
        )
        return _("Case #{number} assigned; its handlers have been told.").format(number=number)
    if name == "recategorise":
        category = await categories.find_category(session, code=args[1].lower())
        if category is None:
            raise InvalidInput("usage")
        await workflow.recategorise(
            session, case=case, category=category, actor=me, auth=auth, today=turn.today()
        )
        return _("Case #{number} is now {category}.").format(
            number=number, category=category.name(who.lang)
        )
    if name == "reject":
        reason, _sep, responsible = " ".join(args[1:]).partition("|")
        await workflow.reject(
            session, case=case, actor=me, auth=auth, reason=reason, responsible=responsible
        )
        return _("Case #{number} rejected; the reporter has been told why.").format(number=number)
    original_number = parse_case_number(args[1])
    if original_number is None:
        raise InvalidInput("usage")
    original = await cases.get_case(session, number=original_number)
    await workflow.mark_duplicate(session, case=case, original=original, actor=me, auth=auth)
    return _("Case #{number} marked as a duplicate of #{original}.").format(
        number=number, original=original_number
    )
