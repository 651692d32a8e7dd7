"""Reading case numbers from what people type, and saying no politely."""

from __future__ import annotations

from handlers.actions import parse_id
from handlers.cases.prompts import explain
from handlers.conversation import Speaker
from handlers.words.i18n import N_
from handlers.words.render import status_label
from storage.cases import CaseMovedOn
from storage.errors import (
    CaseNotFound,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    StorageError,
)

REFUSALS: dict[type[StorageError], str] = {
    CaseNotFound: N_("I cannot find that case."),
    NotAllowed: N_("Sorry, you may not do that with this case."),
    InvalidTransition: N_("That is not possible in the case's current state."),
}


def parse_case_number(text: str) -> int | None:
    """`27`, `#27` -> 27; a number no case can have -> NOWHERE (not found); else None."""
    return parse_id(text)


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
