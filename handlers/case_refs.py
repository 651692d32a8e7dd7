"""Reading case numbers from what people type, and saying no politely."""

from __future__ import annotations

import re

from bot.i18n import N_
from bot.render import status_label
from handlers.common import Speaker
from handlers.report_prompts import explain
from storage.cases import MAX_CASE_NUMBER, CaseMovedOn
from storage.errors import (
    CaseNotFound,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    StorageError,
)

NUMBER = re.compile(r"^#?(\d{1,10})$")

REFUSALS: dict[type[StorageError], str] = {
    CaseNotFound: N_("I cannot find that case."),
    NotAllowed: N_("Sorry, you may not do that with this case."),
    InvalidTransition: N_("That is not possible in the case's current state."),
}


def parse_case_number(text: str) -> int | None:
    """`27`, `#27` -> 27; anything else (letters, 20 digits, zero) -> None."""
    match = NUMBER.match(text.strip())
    if match is None:
        return None
    number = int(match[1])
    return number if 0 < number <= MAX_CASE_NUMBER else None


def case_moved_on(error: CaseMovedOn, who: Speaker) -> str:
    """ "Case #12: Closed": the case and its current status, by name."""
    status = status_label(error.status, who.lang)
    return who._("Case #{number}: {status}").format(number=error.number, status=status)


def explain_refusal(error: StorageError, who: Speaker) -> str:
    if isinstance(error, InvalidInput):
        return explain(error, who.lang)
    if isinstance(error, CaseMovedOn):
        return case_moved_on(error, who)
    for kind, message in REFUSALS.items():
        if isinstance(error, kind):
            return who._(message)
    return who._("This button has expired.")
