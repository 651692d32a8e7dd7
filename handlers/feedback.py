"""The reporter's side: "is it fixed?", the rating, and adding a message to a case."""

from __future__ import annotations

from telegram import Update

from handlers.actions import AddMessage, IsItFixed, Rate, decode, encode
from handlers.case_refs import explain_refusal
from handlers.common import Context, reply, speaker, transaction
from storage import cases, feedback
from storage.errors import CaseNotFound, InvalidTransition, StorageError
from storage.pending import Awaiting, expect_input


async def on_button(update: Update, context: Context) -> None:
    """Fixed / Not fixed / a star rating / Add a message — only on the presser's own case."""
    query = update.callback_query
    assert query is not None
    action = decode(query.data)
    rows = None
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
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
            elif isinstance(action, Rate):
                await feedback.rate(session, case=case, resident=who.resident, stars=action.stars)
                text = _("Thank you for rating case #{number}.")
            else:
                kind = Awaiting.REOPEN if isinstance(action, IsItFixed) else Awaiting.FOLLOWUP
                if kind is Awaiting.REOPEN and case.status != "resolved":
                    raise InvalidTransition(case.status)
                await expect_input(session, resident=who.resident, kind=kind, case_id=number)
                text = (
                    _("Sorry it is not fixed. What is still wrong with case #{number}?")
                    if kind is Awaiting.REOPEN
                    else _("Type your message about case #{number}; its handlers will see it.")
                )
            text = text.format(number=number)
        except StorageError as error:
            text, rows = explain_refusal(error, who), None
    await query.answer()
    await reply(update, text, rows)
