"""The monthly report to secretaries (outbox kind "monthly_report"), worded at send time.

The job stores the figures' numbers in the row (handlers/words/figures.py: summarise), not words, so
each secretary reads them in their own language, and a renderer never touches the database.
The chart is not sent through the outbox: an outbox row carries text and at most a Telegram
file id, and a PNG has none until it is uploaded, so the notice points to /stats for the chart.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.notices import Notice, notice
from handlers.words.figures import render_summary
from handlers.words.i18n import translator

logger = logging.getLogger(__name__)

KIND = "monthly_report"


def report_params(period: str, summary: dict[str, Any]) -> dict[str, Any]:
    """What the job stores in each secretary's outbox row."""
    return {"period": period, "summary": summary}


@notice(KIND)
def monthly_report(params: dict[str, Any], lang: str) -> Notice:
    """To a secretary on the 1st: last month's figures, and how to get the chart."""
    _ = translator(lang)
    lines = [
        _("Monthly report of the community office"),
        render_summary(params["summary"], lang),
        "",
        _("For the chart, send /stats {period}").format(period=params["period"]),
    ]
    return Notice("\n".join(lines))
