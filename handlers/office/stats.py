"""Secretaries' figures: /stats [period] [category] [building:N] as a message and a chart."""

from __future__ import annotations

import logging
import re

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.conversation import Media, Reply, Speaker, Turn
from handlers.words.charts import chart_png
from handlers.words.figures import render_figures
from handlers.words.i18n import N_
from storage.cases import categories
from storage.cases.disputes import dispute_figures
from storage.errors import InvalidInput
from storage.figures.stats import Figures, figures
from storage.models import utcnow
from storage.periods import parse_period

logger = logging.getLogger(__name__)

USAGE = N_(
    "Send it like this: /stats (this month), /stats 2026-11, /stats 2026 or "
    "/stats 2026-11-01..2026-11-15; add a category code to see one category: "
    "/stats 2026-11 safety; add building:3 to see one building: /stats 2026-11 building:3"
)
# building:3, building=3, 楼栋:3 or 楼:3 (a full-width colon too): the building as residents
# gave it in their profile (Case.building), at most 16 characters.
BUILDING = re.compile(r"^(?:building|楼栋|楼)[:：=](.{1,16})$", re.IGNORECASE)


async def stats(turn: Turn) -> None:
    """/stats [period] [category]: the office's figures, then the chart (secretaries only)."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        text, found = await _figures(session, who, turn)
    await turn.reply(text)
    if found is None:
        return
    png = await chart_png(found, who.lang)  # drawn in a thread: the loop keeps serving
    await turn.send([Reply(photo=Media(png, f"figures-{found.period.label}.png"))])
    logger.info("figures for %s sent to resident %s", found.period.label, who.resident.id)


async def _figures(session: AsyncSession, who: Speaker, turn: Turn) -> tuple[str, Figures | None]:
    """The reply text, and the figures when there is a chart to draw."""
    _ = who._
    if not who.auth.is_secretary:
        return _("This is for community office staff."), None
    if not turn.private:  # figures are for the office, not for a residents' group
        return _("I answer this only in a private chat with you."), None
    args = turn.args
    buildings = [match[1] for arg in args if (match := BUILDING.match(arg))]
    args = [arg for arg in args if not BUILDING.match(arg)]
    # The period starts with a digit, a category code never does: either may be left out.
    period_text = args[0] if args and args[0][:1].isdigit() else None
    rest = args[1:] if period_text else args
    try:
        if len(rest) > 1 or len(buildings) > 1:
            raise InvalidInput("bad_period")
        period = parse_period(period_text, tz=turn.settings.tz, today=turn.today())
    except InvalidInput:
        return _(USAGE), None
    category = None
    if rest:
        code = rest[0].lower()
        category = await categories.find_category(session, code=code)
        if category is None:
            codes = await categories.category_codes(session)
            unknown = _("There is no category {code}. The category codes are: {codes}")
            text = unknown.format(code=code, codes=", ".join(codes))
            return text + "\n" + _(USAGE), None
    building = buildings[0] if buildings else None
    chosen = category.code if category else None
    found = await figures(session, period=period, now=utcnow(), category=chosen, building=building)
    # Disputes are counted over the whole estate; narrowed figures would mislead with them.
    disputes = (
        None
        if category is not None or building is not None
        else await dispute_figures(session, start=period.start, end=period.end)
    )
    return render_figures(found, disputes, who.lang, category=category), found
