"""The office's figures as a short message in the reader's language (/stats, monthly report).

The figures are first reduced to a plain, JSON-ready summary of numbers
(storage/figures/summary.py), then worded. /stats words the summary at once; the monthly report
stores it in an outbox row and words it at send time in each secretary's language, so both
read the same.
"""

from __future__ import annotations

import logging

from handlers.words.i18n import Translate, translator
from storage.cases.disputes import DisputeFigures
from storage.figures.stats import Figures, ratio
from storage.figures.summary import Summary, summarise
from storage.models import Category

logger = logging.getLogger(__name__)


def _rate(part: int, whole: int, places: int, _: Translate) -> str:
    value = ratio(part, whole)
    return _("no data") if value is None else f"{value * 100:.{places}f}%"


def _hours(pair: list[float | None], _: Translate) -> str:
    median, p90 = pair
    if median is None or p90 is None:
        return _("no data")
    return _("median {median} h, 90th percentile {p90} h").format(
        median=f"{median:.1f}", p90=f"{p90:.1f}"
    )


def render_summary(summary: Summary, lang: str) -> str:
    """The figures message; "no data" wherever a rate or an average has nothing to count."""
    _ = translator(lang)
    lines = ["📊 " + _("Figures for {period}").format(period=summary["period"])]
    if summary.get("category"):
        lines.append(_("Category: {category}").format(category=summary["category"][lang]))
    if summary.get("building"):
        lines.append(_("Building: {building}").format(building=summary["building"]))
    accepted, handled = summary["accepted"], summary["handled"]
    demand = _("Demand incidents: {accepted} accepted, {handled} handled, completion rate {rate}")
    lines.append(
        demand.format(accepted=accepted, handled=handled, rate=_rate(handled, accepted, 1, _))
    )
    found, rectified = summary["found"], summary["rectified"]
    lines.append(
        _("Hazards: {found} found, {rectified} rectified, rectification rate {rate}").format(
            found=found, rectified=rectified, rate=_rate(rectified, found, 2, _)
        )
    )
    if disputes := summary.get("disputes"):
        lines.append(
            _(
                "Labour disputes resolved: {resolved}, people involved: {people}, "
                "amount involved: {amount} yuan"
            ).format(
                resolved=disputes["resolved"],
                people=disputes["people"],
                amount=f"{disputes['amount_yuan']:,}",
            )
        )
    lines.append(
        _("Time to first response: {hours}").format(hours=_hours(summary["first_response"], _))
    )
    lines.append(_("Time to resolution: {hours}").format(hours=_hours(summary["resolution"], _)))
    lines.append(_("Overdue now: {count}").format(count=summary["overdue_now"]))
    average, responses = summary["satisfaction"]
    rating = (
        _("no data")
        if average is None
        else _("{average} of 5 from {count} ratings").format(
            average=f"{average:.1f}", count=responses
        )
    )
    lines.append(_("Satisfaction: {rating}").format(rating=rating))
    if meetings := summary.get("meetings"):
        lines.append(_meetings(meetings, _))
    return "\n".join(lines)


def _meetings(meetings: dict[str, int], _: Translate) -> str:
    taken, taken_done = meetings["taken"], meetings["taken_done"]
    return _(
        "Meetings held: {held}; decisions taken: {taken}, done in the period: {done}, "
        "completion rate of the period's decisions {rate}"
    ).format(
        held=meetings["held"],
        taken=taken,
        done=meetings["done"],
        rate=_rate(taken_done, taken, 1, _),
    )


def render_figures(
    figures: Figures,
    disputes: DisputeFigures | None,
    lang: str,
    *,
    category: Category | None = None,
) -> str:
    """/stats's message: the figures (and disputes, when given) in the reader's language."""
    return render_summary(summarise(figures, disputes, category=category), lang)
