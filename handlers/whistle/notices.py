"""Outbox notices of the whistle (kinds "whistle*"), worded at send time.

"whistle" is the call itself: the question, the deadline in local time, one button per answer
option (`w1:a:<whistle>:<option>`) and, when opinions are wanted, a "write an opinion" button
(`w1:op:<whistle>`). Pressed in a group, that button answers with a t.me/<bot>?start=w<id>
link that opens the private chat; pressed in private, the next message is the opinion.
"whistle_report" edits the secretary's live delivery report in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.actions import WhistleAnswer, WhistleOpinions, WhistlePress, encode
from handlers.words.i18n import translator
from handlers.words.notice import Buttons, Notice, notice
from handlers.words.render import local_time
from storage.whistle.answers import CASE_NOTICE
from storage.whistle.drafts import NOTICE as WHISTLE
from storage.whistle.notices import REPORT

DEFAULT_TZ = "Asia/Shanghai"


def local_deadline(params: dict[str, Any]) -> str:
    deadline = datetime.fromisoformat(params["deadline_at"])
    return local_time(deadline, ZoneInfo(params.get("tz") or DEFAULT_TZ))


def answer_buttons(params: dict[str, Any], lang: str) -> Buttons:
    _ = translator(lang)
    number = params["whistle"]
    rows: Buttons = [
        [(option, encode(WhistleAnswer(whistle=number, option=i)))]
        for i, option in enumerate(params["options"])
    ]
    if len(rows) > 1 and all(len(option) <= 8 for option in params["options"]):
        rows = [[button for row in rows for button in row]]  # short options fit on one row
    if params.get("free_text"):
        rows.append([(_("✍️ Write an opinion"), encode(WhistlePress(verb="op", whistle=number)))])
    return rows


@notice(WHISTLE)
def whistle(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    lines = [
        _("📣 The community office asks for your opinion (#{number})").format(
            number=params["whistle"]
        ),
        "",
        params["question"],
        "",
        _("Open until {when}.").format(when=local_deadline(params)),
    ]
    if params.get("options"):
        lines.append(_("Press a button to answer; press another to change your answer."))
    if params.get("free_text"):
        if params.get("group"):
            lines.append(
                _('Reply to this message, or press "Write an opinion" to tell us privately.')
            )
        else:
            lines.append(_('Reply to this message, or press "Write an opinion".'))
    return Notice(text="\n".join(lines), buttons=answer_buttons(params, lang))


def report_text(params: dict[str, Any], lang: str) -> str:
    """The secretary's delivery report: how many were queued, sent, failed and blocked."""
    _ = translator(lang)
    question = params["question"]
    lines = [
        _("Whistle #{number}: {question}").format(
            number=params["whistle"],
            question=question if len(question) <= 80 else question[:79] + "…",
        ),
        _("Queued {queued} · sent {sent} · failed {failed} · blocked {blocked}").format(
            queued=params["queued"],
            sent=params["sent"],
            failed=params["failed"],
            blocked=params["blocked"],
        ),
    ]
    if params.get("status") == "cancelled":
        lines.append(_("Cancelled: no more answers are taken."))
    elif params.get("final"):
        lines.append(
            _("Delivery finished. Answers are taken until {when}.").format(
                when=local_deadline(params)
            )
        )
    else:
        lines.append(_("Sending…"))
    return "\n".join(lines)


def report_buttons(params: dict[str, Any], lang: str) -> Buttons:
    _ = translator(lang)
    number = params["whistle"]
    rows: Buttons = [[(_("Opinions"), encode(WhistleOpinions(whistle=number, page=0)))]]
    if params.get("status") == "open":
        rows[0].append((_("Cancel the whistle"), encode(WhistlePress(verb="cx", whistle=number))))
    return rows


@notice(REPORT)
def delivery_report(params: dict[str, Any], lang: str) -> Notice:
    return Notice(
        text=report_text(params, lang),
        buttons=report_buttons(params, lang),
        edit_message_id=int(params["message_id"]),
    )


@notice(CASE_NOTICE)
def opinion_filed(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        text=_(
            "Your opinion on whistle #{whistle} is now case #{case}; the office will follow it "
            "up. See it with /case {case}."
        ).format(whistle=params["whistle"], case=params["case"])
    )
