"""The reporter's side: "is it fixed?", the rating, and adding a message to a case."""

from __future__ import annotations

from handlers.actions import AddMessage, IsItFixed, Rate, encode
from handlers.cases.refs import case_moved_on, explain_refusal
from handlers.conversation import Buttons, Turn
from handlers.words.i18n import ngettext
from storage import cases
from storage.cases import Action, CaseMovedOn, feedback
from storage.errors import CaseNotFound, StorageError
from storage.people.pending import Awaiting, expect_input


async def on_button(turn: Turn) -> None:
    """Fixed / Not fixed / a star rating / Add a message — only on the presser's own case.
    A rating counts once; a press the case has moved past says so at once, asking nothing."""
    action = turn.action
    rows: Buttons | None = None
    alert: str | None = None
    spent = False  # the pressed message's buttons have done their work
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            if not isinstance(action, IsItFixed | Rate | AddMessage):
                raise StorageError("unparseable")
            number = action.case
            case = await cases.get_case(session, number=number)
            if case.reporter_id != who.resident.id:
                raise CaseNotFound(number)
            if isinstance(action, IsItFixed) and action.answer == "yes":
                await feedback.confirm_fixed(session, case=case, resident=who.resident)
                text = _("Thank you! Case #{number} is closed. How satisfied are you?")
                rows = [[("⭐" * n, encode(Rate(stars=n, case=number))) for n in range(1, 6)]]
                spent = True
            elif isinstance(action, Rate):
                await feedback.rate(session, case=case, resident=who.resident, stars=action.stars)
                text = _("Thank you for rating case #{number}.")
                spent = True
            else:
                kind = Awaiting.REOPEN if isinstance(action, IsItFixed) else Awaiting.FOLLOWUP
                if kind is Awaiting.REOPEN:
                    cases.require(case, Action.ANSWER_FIXED)
                await expect_input(session, resident=who.resident, kind=kind, case_id=number)
                text = (
                    _("Sorry it is not fixed. What is still wrong with case #{number}?")
                    if kind is Awaiting.REOPEN
                    else _("Type your message about case #{number}; its handlers will see it.")
                )
            text = text.format(number=number)
        except feedback.AlreadyRated as error:
            stars = error.stars
            alert = ngettext(
                who.lang,
                "You have already rated it {n} star.",
                "You have already rated it {n} stars.",
                stars,
            ).format(n=stars)
        except CaseMovedOn as error:
            alert = case_moved_on(error, who)
        except StorageError as error:
            text, rows = explain_refusal(error, who), None
    if alert is not None:  # a stale press: every button on its message is spent
        await turn.answer(alert, alert=True)
        await turn.drop_spent_buttons()
        return
    await turn.answer()
    if spent:
        await turn.drop_spent_buttons()
    await turn.reply(text, rows)
