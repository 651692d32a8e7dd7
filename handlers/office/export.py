"""/export [period]: a secretary receives the period's cases and figures as an .xlsx file."""

from __future__ import annotations

import io
import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.conversation import Media, Reply, Speaker, Turn
from handlers.office.export_files import file_name, write_xlsx
from handlers.words.i18n import N_
from storage.errors import InvalidInput
from storage.figures.exports import count_cases
from storage.models import utcnow
from storage.periods import Period, parse_period

logger = logging.getLogger(__name__)

# 100,000 cases take about 40 s to write and make a 16 MB file (bench/stats.py); more would
# keep the secretary waiting for minutes and near Telegram's 50 MB limit for bots.
# `yishi report` on the server has neither limit.
MAX_CASES = 100_000
USAGE = N_(
    "Send it like this: /export 2026-11 (a month), /export 2026 (a year) "
    "or /export 2026-11-01..2026-11-15 (a range of days). Without a period: this month."
)
TOO_MANY = N_(
    "{period} has {count} cases, too many for one file here. Choose a shorter period, "
    "or ask the administrator to run: yishi report --period {period}"
)
CAPTION = N_("Cases filed in {period}: {count}.")


async def export(turn: Turn) -> None:
    """/export [period]: the period's cases, events, hazards, disputes and figures (.xlsx)."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        period = await _period_or_refusal(session, who, turn)
    if isinstance(period, str):
        await turn.reply(period)
        return
    await turn.channel.uploading()
    # The update's transaction is over: the rows are read in short transactions of their own.
    buffer = io.BytesIO()
    written = await write_xlsx(buffer, turn.engine, period=period, now=utcnow())
    caption = who._(CAPTION).format(period=period.label, count=written.cases)
    await turn.send([Reply(caption, document=Media(buffer.getvalue(), file_name(period)))])


async def _period_or_refusal(session: AsyncSession, who: Speaker, turn: Turn) -> Period | str:
    """The period asked for, or what to say instead."""
    _ = who._
    if not who.auth.is_secretary:
        return _("This is for community office staff.")
    if not turn.private:  # the file holds every case of the period: never into a group
        return _("I answer this only in a private chat with you.")
    try:
        tz, today = turn.settings.tz, turn.today()
        period = parse_period(" ".join(turn.args), tz=tz, today=today)
    except InvalidInput:
        return _(USAGE)
    count = await count_cases(session, period=period)
    if count > MAX_CASES:
        return _(TOO_MANY).format(period=period.label, count=count)
    return period
