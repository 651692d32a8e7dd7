"""A resident's own cases: /mycases and /case <number>."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import NOWHERE, AddMessage, ProposalPress, ViewCase, encode
from handlers.cases.refs import parse_case_number
from handlers.conversation import Buttons, Speaker, Turn
from handlers.words.render import render_case, render_case_list
from storage import cases
from storage.cases import routing
from storage.cases.assignment import may_handle
from storage.errors import CaseNotFound
from storage.people import get_resident


async def my_cases(turn: Turn) -> None:
    """/mycases: the resident's own cases, newest first."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        if turn.private:
            items = await cases.reporter_cases(session, reporter=who.resident)
            total = await cases.count_reporter_cases(session, reporter=who.resident)
    if not turn.private:
        await turn.reply(who._("I answer this only in a private chat with you."))
        return
    tz = turn.settings.tz
    buttons = [
        [
            (f"#{case.id}", encode(ViewCase(case=case.id)))
            for case, _cat in items[i : i + 5]
            if case.id is not None
        ]
        for i in range(0, min(len(items), 10), 5)
    ]
    await turn.reply(render_case_list(items, total, who.lang, tz), buttons or None)


async def show_case(turn: Turn) -> None:
    """/case <number>: one of the resident's cases with its public timeline."""
    args = turn.args
    number = parse_case_number(args[0]) if len(args) == 1 else None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        rows: Buttons | None = None
        if not turn.private:
            text = _("I answer this only in a private chat with you.")
        elif not args:
            text = _("Which case? Send /case and its number, for example /case 27.")
        elif number is None:
            text = _('"{given}" is not a case number. Send it like this: /case 27.').format(
                given=" ".join(args)[:40]
            )
        elif number == NOWHERE:  # a number no case can have: not found, as typed
            text = _("I cannot find case #{number} among your cases.").format(
                number=args[0].strip().lstrip("#")[:40]
            )
        else:
            text, rows = await _case_text(session, who, number, turn)
    await turn.reply(text, rows)


async def on_view_button(turn: Turn) -> None:
    """A press on a case button from /mycases (re-checked: only the reporter sees it)."""
    action = turn.action
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        text, rows = (
            await _case_text(session, who, action.case, turn)
            if isinstance(action, ViewCase)
            else (who._("This button has expired."), None)
        )
    await turn.answer()
    await turn.reply(text, rows)


async def _case_text(
    session: AsyncSession, who: Speaker, number: int, turn: Turn
) -> tuple[str, Buttons | None]:
    """The reporter sees their case (with a button to add a message); its handlers and the
    secretaries see the internal timeline; anyone else gets "not found"."""
    tz = turn.settings.tz
    try:
        case = await cases.get_case(session, number=number)
        if case.reporter_id == who.resident.id:
            view = await cases.case_view(session, case=case, internal=False)
            rows = [[(who._("✍️ Add a message"), encode(AddMessage(case=number)))]]
            if case.status in cases.OPEN_STATUSES:
                propose = encode(ProposalPress(verb="fc", subject=number))
                rows.append([(who._("🗳 Propose for the meeting"), propose)])
            return render_case(view, who.lang, tz), rows
        if not may_handle(who.auth, case, await routing.unit_of(session, case)):
            raise CaseNotFound(number)
        view = await cases.case_view(session, case=case, internal=True)
        reporter = await get_resident(session, resident_id=case.reporter_id)
        shown = (
            reporter.name if reporter and (who.auth.is_secretary or not case.anonymous) else None
        )
        return render_case(view, who.lang, tz, staff=True, reporter=shown), None
    except CaseNotFound:
        text = who._("I cannot find case #{number} among your cases.").format(number=number)
        return text, None
