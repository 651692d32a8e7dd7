"""The reporter's side: "is it fixed?", the rating, and adding a message to a case."""

from __future__ import annotations

import re

from telegram import Update

from handlers.case_refs import explain_refusal
from handlers.common import Context, reply, speaker, transaction
from storage import cases, feedback
from storage.errors import CaseNotFound, InvalidTransition, StorageError
from storage.pending import Awaiting, expect_input

BUTTON = re.compile(r"^(r1:yes|r1:no|r1:rate:[1-5]|f1):(\d{1,10})$")


async def on_button(update: Update, context: Context) -> None:
    """Fixed / Not fixed / a star rating / Add a message — only on the presser's own case."""
    query = update.callback_query
    assert query is not None
    match = BUTTON.match(query.data or "")
    rows = None
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
        _ = who._
        try:
            if match is None:
                raise StorageError("unparseable")
            action, number = match[1], int(match[2])
            case = await cases.get_case(session, number=number)
            if case.reporter_id != who.resident.id:
                raise CaseNotFound(number)
            if action == "r1:yes":
                await feedback.confirm_fixed(session, case=case, resident=who.resident)
                text = _("Thank you! Case #{number} is closed. How satisfied are you?")
                rows = [[(f"{'⭐' * n}", f"r1:rate:{n}:{number}") for n in range(1, 6)]]
            elif action.startswith("r1:rate"):
                await feedback.rate(
                    session, case=case, resident=who.resident, stars=int(action[-1])
                )
                text = _("Thank you for rating case #{number}.")
            else:
                kind = Awaiting.REOPEN if action == "r1:no" else Awaiting.FOLLOWUP
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
