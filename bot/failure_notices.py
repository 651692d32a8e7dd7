"""To the secretaries: a notice that could not be delivered (storage/cases/delivery_failures.py)."""

from __future__ import annotations

from typing import Any

from bot.notices import Notice, notice
from handlers.words.i18n import N_, translator
from storage.cases.delivery_failures import KIND, Reason

REASONS = {
    Reason.REFUSED: N_("Telegram refused it ({detail})"),
    Reason.MOVED: N_("the group was upgraded and has a new chat the bot does not know yet"),
    Reason.UNRENDERABLE: N_("the bot could not put it into words (a fault in the bot)"),
    Reason.ATTEMPTS: N_("it still failed after {attempts} tries"),
}


@notice(KIND)
def delivery_failed(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    template = REASONS.get(params["reason"], REASONS[Reason.REFUSED])
    reason = _(template).format(detail=params.get("detail") or "—", attempts=params["attempts"])
    name = params.get("recipient") or _("someone the bot no longer knows")
    if params.get("about_case") is not None:
        text = _(
            "⚠️ A notice about case #{number} could not be delivered to {name}: {reason}. "
            "Please let them know another way."
        ).format(number=params["about_case"], name=name, reason=reason)
    else:
        text = _(
            "⚠️ A notice could not be delivered to {name}: {reason}. "
            "Please let them know another way."
        ).format(name=name, reason=reason)
    return Notice(text)
