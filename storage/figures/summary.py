"""The office's figures reduced to a plain, JSON-ready summary of numbers, and the monthly
report's outbox row that carries it.

/stats words a summary at once; the monthly report stores it in each secretary's outbox row
(kind "monthly_report") and it is worded at send time in their language, so both read the same
(handlers/words/figures.py: render_summary). Rates are worked out when worded, from the counts.
"""

from __future__ import annotations

from typing import Any

from storage.cases.disputes import DisputeFigures
from storage.figures.stats import Figures
from storage.figures.stats_durations import Durations
from storage.models import Category

Summary = dict[str, Any]

MONTHLY_REPORT = "monthly_report"  # the outbox kind, and the ledger's job name


def _durations(durations: Durations) -> list[float | None]:
    return [durations.median_hours, durations.p90_hours]


def summarise(
    figures: Figures, disputes: DisputeFigures | None, *, category: Category | None = None
) -> Summary:
    """The numbers the message needs (rates are worked out when worded, from the counts)."""
    meetings = figures.meetings
    return {
        "period": figures.period.label,
        "category": {"zh": category.name_zh, "en": category.name_en} if category else None,
        "building": figures.building,
        "accepted": figures.demand.accepted,
        "handled": figures.demand.handled,
        "found": figures.hazards.found,
        "rectified": figures.hazards.rectified,
        "disputes": None
        if disputes is None
        else {
            "resolved": disputes.resolved,
            "people": disputes.people,
            "amount_yuan": disputes.amount_yuan,
        },
        "first_response": _durations(figures.first_response),
        "resolution": _durations(figures.resolution),
        "overdue_now": figures.overdue_now,
        "satisfaction": [figures.satisfaction.average, figures.satisfaction.responses],
        "meetings": None
        if meetings is None
        else {
            "held": meetings.held,
            "taken": meetings.taken,
            "done": meetings.done,
            "taken_done": meetings.taken_done,
        },
    }


def report_params(period: str, summary: Summary) -> dict[str, Any]:
    """What the monthly report job stores in each secretary's outbox row."""
    return {"period": period, "summary": summary}
