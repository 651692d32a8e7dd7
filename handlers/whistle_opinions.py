"""What a secretary does with a whistle's answers, in private: read the opinions (with their
authors: never shown to groups), file one as a case with one press, cancel the whistle.

The caller (handlers/whistle.py) has checked the secretary role; storage checks it again.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.error import BadRequest

from bot.whistle_notices import report_buttons, report_params, report_text
from handlers.common import (
    Context,
    Speaker,
    command_args,
    is_private,
    keyboard,
    local_today,
    rt,
    speaker,
    transaction,
)
from handlers.whistle_text import Reply, send
from storage import whistle_answers, whistles
from storage.errors import StaleAction, StorageError
from storage.models import utcnow
from storage.text import mask_phones

logger = logging.getLogger(__name__)

SECRETARY_VIEWS = frozenset({"ops", "case", "cx", "cy"})
PAGE = 5
EXCERPT = 300


async def opinions_command(update: Update, context: Context) -> None:
    """/opinions <whistle>: the opinions on a whistle, secretary only, in private."""
    args = command_args(context)
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
        if not who.auth.is_secretary:
            replies: list[Reply] = [(who._("Only a secretary can do that."), None)]
        elif not is_private(update):
            replies = [(who._("Please ask me in a private chat."), None)]
        elif not args or not args[0].lstrip("#").isdigit():
            replies = [(who._("Usage: /opinions <whistle number>"), None)]
        else:
            try:
                replies = await secretary_view(
                    session, who, context, "ops", int(args[0].lstrip("#")), "0"
                )
            except StorageError:
                replies = [(who._("I cannot find that whistle."), None)]
    await send(update, replies)


async def secretary_view(
    session: AsyncSession, who: Speaker, context: Context, action: str, number: int, arg: str | None
) -> list[Reply]:
    """Opinions (a page), an opinion filed as a case, or cancelling; the caller checked the role."""
    _ = who._
    if action == "ops":
        return [
            await _opinions_page(
                session, who, number, int(arg or 0) if (arg or "0").isdigit() else 0
            )
        ]
    if action == "case":
        case, created = await whistle_answers.opinion_to_case(
            session, by=who.auth, opinion_id=number, today=local_today(context)
        )
        template = (
            _("Opinion filed as case #{case}.")
            if created
            else _("That opinion is already case #{case}.")
        )
        return [(template.format(case=case.id), None)]
    if action == "cx":  # asks to confirm, so only while the whistle is open
        await whistles.cancellable(session, by=who.auth, whistle_id=number)
        rows = [[(_("Yes, cancel it"), f"w1:cy:{number}")]]
        return [
            (
                _(
                    "Cancel whistle #{number}? Residents can no longer answer, and messages "
                    "not yet sent are dropped."
                ).format(number=number),
                keyboard(rows),
            )
        ]
    if action == "cy":
        whistle = await whistles.cancel(session, by=who.auth, whistle_id=number, now=utcnow())
        counts = await whistles.delivery_counts(session, whistle_id=number)
        tz = rt(context).settings.timezone
        params = report_params(whistle, counts, tz=tz, final=True)
        if whistle.report_chat_id and whistle.report_message_id:
            try:  # the report shows it at once; a report deleted meanwhile changes nothing
                await context.bot.edit_message_text(
                    report_text(params, who.lang),
                    chat_id=whistle.report_chat_id,
                    message_id=whistle.report_message_id,
                    reply_markup=keyboard(report_buttons(params, who.lang)),
                )
            except BadRequest as error:
                logger.info("whistle %s: report not edited: %s", number, error)
        return [(_("Whistle #{number} is cancelled.").format(number=number), None)]
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
            rows.append([(_("File [{n}] as a case").format(n=opinion.id), f"w1:case:{opinion.id}")])
    if not items:
        lines.append(_("No opinions yet."))
    if (page + 1) * PAGE < total:
        rows.append([(_("More ▶️"), f"w1:ops:{number}:{page + 1}")])
    return "\n".join(lines), keyboard(rows) if rows else None
