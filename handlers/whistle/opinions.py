"""What a secretary does with a whistle's answers, in private: read the opinions (with their
authors: never shown to groups), file one as a case with one press, cancel the whistle.

The caller (handlers/whistle/compose.py) has checked the secretary role; storage checks it again.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import (
    Action,
    OpinionToCase,
    WhistleOpinions,
    WhistlePress,
    encode,
    parse_id,
)
from handlers.conversation import Ref, Reply, Speaker, Turn
from handlers.whistle.notices import report_buttons, report_text
from storage.errors import StaleAction, StorageError
from storage.models import utcnow
from storage.text import mask_phones
from storage.whistle import answers as whistle_answers
from storage.whistle import whistles
from storage.whistle.notices import report_params

logger = logging.getLogger(__name__)

PAGE = 5
EXCERPT = 300


async def opinions_command(turn: Turn) -> None:
    """/opinions <whistle>: the opinions on a whistle, secretary only, in private."""
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        if not who.auth.is_secretary:
            replies = [Reply(who._("Only a secretary can do that."))]
        elif not turn.private:
            replies = [Reply(who._("Please ask me in a private chat."))]
        elif not args or (number := parse_id(args[0])) is None:
            replies = [Reply(who._("Usage: /opinions <whistle number>"))]
        else:
            try:
                first_page = WhistleOpinions(whistle=number, page=0)
                replies = await secretary_view(session, who, turn, first_page)
            except StorageError:
                replies = [Reply(who._("I cannot find that whistle."))]
    await turn.send(replies)


def is_secretary_view(action: Action) -> bool:
    """Opinions, an opinion to file, or cancelling: what secretary_view answers."""
    cancel = isinstance(action, WhistlePress) and action.verb in ("cx", "cy")
    return cancel or isinstance(action, WhistleOpinions | OpinionToCase)


async def secretary_view(
    session: AsyncSession, who: Speaker, turn: Turn, action: Action
) -> list[Reply]:
    """Opinions (a page), an opinion filed as a case, or cancelling; the caller checked the role."""
    _ = who._
    if isinstance(action, WhistleOpinions):
        return [await _opinions_page(session, who, action.whistle, action.page)]
    if isinstance(action, OpinionToCase):
        case, created = await whistle_answers.opinion_to_case(
            session, by=who.auth, opinion_id=action.opinion, today=turn.today()
        )
        template = (
            _("Opinion filed as case #{case}.")
            if created
            else _("That opinion is already case #{case}.")
        )
        return [Reply(template.format(case=case.id))]
    if not isinstance(action, WhistlePress):
        raise StaleAction(action)
    number = action.whistle
    if action.verb == "cx":  # asks to confirm, so only while the whistle is open
        await whistles.cancellable(session, by=who.auth, whistle_id=number)
        rows = [[(_("Yes, cancel it"), encode(WhistlePress(verb="cy", whistle=number)))]]
        return [
            Reply(
                _(
                    "Cancel whistle #{number}? Residents can no longer answer, and messages "
                    "not yet sent are dropped."
                ).format(number=number),
                rows,
            )
        ]
    if action.verb == "cy":
        whistle = await whistles.cancel(session, by=who.auth, whistle_id=number, now=utcnow())
        counts = await whistles.delivery_counts(session, whistle_id=number)
        tz = turn.settings.timezone
        params = report_params(whistle, counts, tz=tz, final=True)
        if whistle.report_chat_id and whistle.report_message_id:
            # the report shows it at once; a report deleted meanwhile changes nothing
            report = Ref(whistle.report_chat_id, whistle.report_message_id)
            text, rows = report_text(params, who.lang), report_buttons(params, who.lang)
            if not await turn.edit(ref=report, text=text, rows=rows):
                logger.info("whistle %s: report not edited", number)
        return [Reply(_("Whistle #{number} is cancelled.").format(number=number))]
    raise StaleAction(action)


async def _opinions_page(session: AsyncSession, who: Speaker, number: int, page: int) -> Reply:
    _ = who._
    whistle = await whistles.get_whistle(session, by=who.auth, whistle_id=number)
    items, total = await whistle_answers.opinions(
        session, by=who.auth, whistle_id=number, offset=page * PAGE, limit=PAGE
    )
    lines = [_("Opinions on whistle #{number} ({total}): {question}").format(
        number=number, total=total, question=whistle.question)]  # fmt: skip
    rows = []
    for opinion, author in items:
        text = mask_phones(opinion.text)
        text = text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"
        where = _("building {name}").format(name=opinion.building) if opinion.building else "-"
        outside = "" if opinion.in_audience else " " + _("(outside the audience)")
        filed = " → #" + str(opinion.case_id) if opinion.case_id else ""
        lines.append(f"\n[{opinion.id}] {author.name} · {where}{outside}{filed}\n{text}")
        if opinion.case_id is None:
            assert opinion.id is not None
            filing = encode(OpinionToCase(opinion=opinion.id))
            rows.append([(_("File [{n}] as a case").format(n=opinion.id), filing)])
    if not items:
        lines.append(_("No opinions yet."))
    if (page + 1) * PAGE < total:
        rows.append([(_("More ▶️"), encode(WhistleOpinions(whistle=number, page=page + 1)))])
    return Reply("\n".join(lines), rows)
