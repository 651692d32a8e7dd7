"""Staff and mediators in chat: the buttons on a case notice, /todo and /note."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import CaseWork, decode
from handlers.cases.refs import explain_refusal, parse_case_number
from handlers.conversation import Speaker, Turn
from handlers.words.i18n import N_
from handlers.words.render import status_label
from storage import cases
from storage.cases import Action, CaseMovedOn, assignment, workflow
from storage.errors import StorageError
from storage.people.pending import Awaiting, expect_input
from storage.people.roles import Role

ACTIONS = {
    "acc": Action.ACCEPT,
    "prog": Action.PROGRESS,
    "res": Action.RESOLVE,
    "not": Action.NOT_OURS,
}
ASKS = {
    "prog": (
        Awaiting.PROGRESS,
        N_("Type the progress note for case #{number}; the reporter sees it."),
    ),
    "res": (
        Awaiting.RESOLVE,
        N_("Type what was done to resolve case #{number} (you may send a photo with a caption)."),
    ),
    "not": (
        Awaiting.NOT_OURS,
        N_("Why is case #{number} not for your unit? The secretaries see it."),
    ),
}


async def on_button(turn: Turn) -> None:
    """Accept / Add progress / Resolved / Not ours on a case notice (re-checked every time:
    a press the case's status no longer allows says so at once and asks for nothing)."""
    pressed = turn.action
    moved_on: CaseMovedOn | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            if not isinstance(pressed, CaseWork):
                raise StorageError("unparseable")
            action, number = pressed.verb, pressed.case
            case = await cases.get_case(session, number=number)
            if action == "acc":
                await workflow.accept(session, case=case, actor=who.resident, auth=who.auth)
                text = _("You accepted case #{number}. The reporter has been told.")
            else:
                await assignment.require_handler(session, who.auth, case)
                cases.require(case, ACTIONS[action])
                kind, text = ASKS[action]
                await expect_input(session, resident=who.resident, kind=kind, case_id=number)
                text = _(text)
            text = text.format(number=number)
        except StorageError as error:
            moved_on = error if isinstance(error, CaseMovedOn) else None
            text = explain_refusal(error, who)
    if moved_on is not None:
        await turn.answer(text, alert=True)
        status = moved_on.status
        await turn.drop_spent_buttons(lambda data: _still_works(data, status))
        return
    await turn.answer()
    await turn.reply(text)


def _still_works(data: str, status: str) -> bool:
    pressed = decode(data)
    return isinstance(pressed, CaseWork) and cases.allows(status, ACTIONS[pressed.verb])


async def todo(turn: Turn) -> None:
    """/todo: the open cases of my unit and those named to me, oldest first."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        allowed = who.auth.is_handler or who.auth.is_secretary
        items = await assignment.todo(session, auth=who.auth) if allowed else []
    _ = who._
    if not allowed:
        await turn.reply(_("This is for community office staff."))
        return
    if not items:
        await turn.reply(_("Nothing open for you. Well done."))
        return
    lines = [_("Open cases (oldest first):")]
    lines += [f"#{c.id} · {status_label(c.status, who.lang)} · {c.text[:40]}" for c in items]
    await turn.reply("\n".join(lines))


async def note(turn: Turn) -> None:
    """/note <number> <text>: an internal note, never shown to residents."""
    args = turn.args
    number = parse_case_number(args[0]) if args else None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        if number is None or len(args) < 2:
            text = _("Send it like this: /note 27 Called the owner, visiting Monday.")
        else:
            text = await _note(session, who, number, " ".join(args[1:]))
    await turn.reply(text)


async def _note(session: AsyncSession, who: Speaker, number: int, words: str) -> str:
    try:
        who.auth.require(Role.STAFF, Role.MEDIATOR, Role.INSPECTOR, Role.SECRETARY)
        case = await cases.get_case(session, number=number)
        await workflow.internal_note(
            session, case=case, actor=who.resident, auth=who.auth, note=words
        )
    except StorageError as error:
        return explain_refusal(error, who)
    return who._("Internal note added to case #{number}.").format(number=number)
