"""The words of every case notice (outbox kinds), in the recipient's language.

A filed case's confirmation is an outbox row too (handlers/conversation.py: queue_reply), written in
the same transaction as the case, so a crash after the commit cannot lose it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from handlers.actions import CaseWork, IsItFixed, encode
from handlers.words.i18n import N_, translator
from handlers.words.notice import Buttons, Notice, notice
from handlers.words.render import status_label

FILED = "reply_filed"
FILED_IN_GROUP = "reply_filed_in_group"


def handler_buttons(case: int, lang: str) -> Buttons:
    _ = translator(lang)
    return [
        [
            (_("Accept"), encode(CaseWork(verb="acc", case=case))),
            (_("Add progress"), encode(CaseWork(verb="prog", case=case))),
        ],
        [
            (_("Resolved"), encode(CaseWork(verb="res", case=case))),
            (_("Not ours"), encode(CaseWork(verb="not", case=case))),
        ],
    ]


def _due(params: dict[str, Any], lang: str) -> str | None:
    if not params.get("due_at"):
        return None
    _ = translator(lang)
    hours = (datetime.fromisoformat(params["due_at"]) - datetime.now(UTC)).total_seconds() / 3600
    if hours >= 0:
        return _("Due in {hours} h").format(hours=round(hours))
    return _("Overdue by {hours} h").format(hours=round(-hours))


def _case_block(params: dict[str, Any], lang: str) -> list[str]:
    _ = translator(lang)
    lines = [
        _("Case #{number} · {category}").format(
            number=params["case"], category=params["category"][lang]
        ),
        params["text"],
    ]
    if params.get("address"):
        lines.append(_("Address: {address}").format(address=params["address"]))
    if params.get("location"):
        lat, lon = params["location"]
        lines.append(_("Location: {lat:.5f}, {lon:.5f}").format(lat=lat, lon=lon))
    if params.get("photos"):
        lines.append(_("Photos: {n}").format(n=params["photos"]))
    reporter = params.get("reporter")
    lines.append(
        _("Reported by: {name}").format(name=reporter) if reporter else _("Reported anonymously")
    )
    due = _due(params, lang)
    if due:
        lines.append(due)
    return lines


def _with_case(headline: str, params: dict[str, Any], lang: str) -> str:
    return "\n".join([headline, "", *_case_block(params, lang)])


@notice("assigned")
def assigned(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        _with_case(_("📋 A case for you"), params, lang), handler_buttons(params["case"], lang)
    )


@notice("reopened")
def reopened(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    headline = _("↩️ The resident says it is not fixed: {reason}").format(reason=params["reason"])
    return Notice(_with_case(headline, params, lang), handler_buttons(params["case"], lang))


@notice("followup")
def followup(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    headline = _("💬 The reporter of #{number} adds: {message}").format(
        number=params["case"], message=params["message"]
    )
    return Notice(_with_case(headline, params, lang), handler_buttons(params["case"], lang))


@notice("due_soon")
def due_soon(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        _with_case(_("⏰ Reminder: this case is due soon"), params, lang),
        handler_buttons(params["case"], lang),
    )


@notice("overdue")
def overdue(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(_with_case(_("🚨 Overdue: nobody has finished this case"), params, lang))


@notice("returned")
def returned(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    headline = _("🔁 {by} says this case is not theirs: {reason}. Please reassign it.").format(
        by=params.get("by") or "?", reason=params["reason"]
    )
    return Notice(_with_case(headline, params, lang))


@notice("disputes_returned")
def disputes_returned(params: dict[str, Any], lang: str) -> Notice:
    """To the secretaries: a mediator's role ended and their open disputes went to the desk."""
    _ = translator(lang)
    return Notice(
        _(
            "Mediator {name} no longer holds the role; their open disputes went back to the "
            "mediation desk: {cases}."
        ).format(name=params["mediator"], cases=", ".join(f"#{n}" for n in params["cases"]))
    )


UPDATE_HEADLINES = {
    "accepted": N_("Your case #{number} has been accepted and is being handled."),
    "in_progress": N_("Progress on your case #{number}: {note}"),
    "resolved": N_("Your case #{number} is resolved: {note}\n\nIs it fixed?"),
    "closed": N_("Your case #{number} is closed. Thank you."),
    "rejected": N_("Your case #{number} was not accepted: {note}"),
    "duplicate": N_(
        "Your case #{number} is the same problem as case #{original}; it is handled there."
    ),
    "reopened": N_("Your case #{number} is reopened."),
    "new": N_("Your case #{number} is back with the community office for a decision."),
}


@notice("case_update")
def case_update(params: dict[str, Any], lang: str) -> Notice:
    """To the reporter: a public change of their case."""
    _ = translator(lang)
    status = params["status"]
    template = UPDATE_HEADLINES.get(status)
    if template is None:
        text = _("Your case #{number} is now: {status}").format(
            number=params["case"], status=status_label(status, lang)
        )
    else:
        text = _(template).format(
            number=params["case"],
            note=params.get("note") or "—",
            original=params.get("original"),
        )
    if status == "rejected" and params.get("responsible"):
        text += "\n" + _("Who can help instead: {who}").format(who=params["responsible"])
    if status == "closed" and params.get("note") == "auto":
        text = _("Your case #{number} was closed: it was resolved 7 days ago.").format(
            number=params["case"]
        )
    buttons: Buttons = []
    if status == "resolved":
        buttons = [
            [
                (_("Yes, fixed"), encode(IsItFixed(answer="yes", case=params["case"]))),
                (_("No, not fixed"), encode(IsItFixed(answer="no", case=params["case"]))),
            ]
        ]
    return Notice(text, buttons, photo=params.get("photo"))


@notice(FILED)
def filed(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        text=_(
            "Thank you. Your report is filed as #{number}. We will tell you at every step; "
            "send /case {number} to see it at any time."
        ).format(number=params["case"])
    )


@notice(FILED_IN_GROUP)
def filed_in_group(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        text=_("Recorded as #{number}. Follow it in a private chat with me: /case {number}").format(
            number=params["case"]
        ),
        reply_to_message_id=params.get("reply_to"),
    )
