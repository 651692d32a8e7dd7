"""Secretaries' view of whistles: /whistles lists open and past ones; a button shows results.

Only a secretary, and only in a private chat: results are the office's, not a group's. Both the
command and every press (`wr1:show:<whistle>`) check the role on the server; a press by anyone
else, or on a whistle that is gone or still a draft, gets the same "expired" answer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.actions import WhistleResults, encode
from handlers.conversation import Buttons, Media, Reply, Speaker, Turn
from handlers.whistle.result_notices import results_chart, results_text
from handlers.words.i18n import N_, Translate, ngettext, translator
from handlers.words.render import local_time
from storage.whistle.drafts import sent_whistle
from storage.whistle.models import Whistle
from storage.whistle.notices import results_params
from storage.whistle.results import recent_whistles, response_counts, whistle_results

logger = logging.getLogger(__name__)

SECRETARIES_ONLY = N_("This is for community office staff.")
PRIVATE_ONLY = N_("I answer this only in a private chat with you.")
STATUS = {
    "sending": N_("sending"),
    "open": N_("open"),
    "closed": N_("closed"),
    "cancelled": N_("cancelled"),
}
QUESTION_EXCERPT = 80


def refusal(who: Speaker, turn: Turn) -> str | None:
    """Why this person may not see whistles here, or None if they may."""
    if not who.auth.is_secretary:
        return who._(SECRETARIES_ONLY)
    if not turn.private:
        return who._(PRIVATE_ONLY)
    return None


async def whistles(turn: Turn) -> None:
    """/whistles: open whistles first, then past ones, each with a results button."""
    rows: Buttons | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        text = refusal(who, turn)
        if text is None:
            found = await recent_whistles(session)
            counts = await response_counts(session, whistle_ids=[w.id for w in found if w.id])
            text, rows = render_list(found, counts, who.lang, turn.settings.tz)
    await turn.reply(text, rows)


def render_list(
    found: list[Whistle], counts: dict[int, int], lang: str, tz: ZoneInfo
) -> tuple[str, Buttons]:
    _ = translator(lang)
    if not found:
        return _("No whistle has been blown yet. Start one with /whistle."), []
    lines = [_("Whistles, open ones first:")]
    rows: list[list[tuple[str, str]]] = []
    for whistle in found:
        assert whistle.id is not None
        question = " ".join(whistle.question.split())
        if len(question) > QUESTION_EXCERPT:
            question = question[: QUESTION_EXCERPT - 1] + "…"
        status = _(STATUS.get(whistle.status, whistle.status))
        deadline = _deadline(whistle.deadline_at, tz, _)
        count = counts.get(whistle.id, 0)
        responses = ngettext(lang, "{count} response", "{count} responses", count)
        responses = responses.format(count=count)
        lines += ["", f"#{whistle.id} {question}", f"  {status} · {deadline} · {responses}"]
        show = encode(WhistleResults(whistle=whistle.id))
        rows.append([(_("Results of #{number}").format(number=whistle.id), show)])
    return "\n".join(lines), rows


def _deadline(at: datetime | None, tz: ZoneInfo, _: Translate) -> str:
    if at is None:
        return _("no deadline")
    return _("deadline {time}").format(time=local_time(at, tz))


async def on_button(turn: Turn) -> None:
    """Results of one whistle (as they stand while it is open): words, then the chart."""
    action = turn.action
    tz = turn.settings.tz
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        refused = refusal(who, turn)
        whistle = (
            await sent_whistle(session, whistle_id=action.whistle)
            if isinstance(action, WhistleResults) and not refused
            else None
        )
        if whistle is None:
            await turn.answer(refused or who._("This button has expired."), alert=True)
            return
        params = results_params(await whistle_results(session, whistle=whistle), tz=tz)
    await turn.answer()
    await turn.reply(results_text(params, who.lang))
    png = await asyncio.to_thread(results_chart, params, who.lang)  # the loop keeps serving
    await turn.send([Reply(photo=Media(png, f"whistle-{whistle.id}.png"))])
    logger.info("results of whistle %s shown to resident %s", whistle.id, who.resident.id)
