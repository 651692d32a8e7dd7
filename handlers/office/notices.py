"""The office's own notices, worded at send time: the case-status digest to a community
group, the monthly report to secretaries, and a notice that could not be delivered.

The digest row carries numbers, category names in both languages and masked excerpts
(storage/deliberation/digests.py: digest_params); never a reporter's name, and an anonymous
case only by its category. The monthly report's row carries the figures' numbers
(storage/figures/summary.py: summarise), not words, so each secretary reads them in their own
language, and a renderer never touches the database. Its chart is not sent through the outbox:
an outbox row carries text and at most a Telegram file id, and a PNG has none until it is
uploaded, so the notice points to /stats for the chart.
"""

from __future__ import annotations

import logging
from typing import Any

from handlers.words.figures import render_summary
from handlers.words.i18n import N_, ngettext, translator
from handlers.words.notice import Notice, notice
from storage.cases.delivery_failures import KIND as DELIVERY_FAILED
from storage.cases.delivery_failures import Reason
from storage.deliberation.digest_notice import KIND as DIGEST
from storage.deliberation.digest_notice import MONTHLY
from storage.figures.summary import MONTHLY_REPORT

logger = logging.getLogger(__name__)


def _name(item: dict[str, Any], lang: str) -> str:
    return str(item["name_zh"] if lang == "zh" else item["name_en"])


def _headline(params: dict[str, Any], lang: str) -> str:
    _ = translator(lang)
    if params["cadence"] == MONTHLY:
        return _("Monthly case digest: {month}").format(month=params["period"])
    return _("Weekly case digest: {first} to {last}").format(
        first=params["first_day"], last=params["last_day"]
    )


def _notable_line(item: dict[str, Any], lang: str) -> str:
    _ = translator(lang)
    category = _name(item, lang)
    if item["case_id"] is None:
        what = _("An anonymous report ({category})").format(category=category)
    else:
        what = _("#{number} {category}").format(number=item["case_id"], category=category)
    if item["reason"] == "supported":
        n = item["supporters"]
        why = ngettext(lang, "{n} resident supported it", "{n} residents supported it", n)
    elif item["reason"] == "long_open":
        n = item["days_open"]
        why = ngettext(lang, "resolved after {n} day", "resolved after {n} days", n)
    else:
        n = 0
        why = _("hazard rectified")
    line = f"• {what}: {why.format(n=n)}"
    return f"{line}\n  {item['excerpt']}" if item.get("excerpt") else line


@notice(DIGEST)
def digest(params: dict[str, Any], lang: str) -> Notice:
    """To a community group: the period's new, handled and overdue cases, and what was fixed."""
    _ = translator(lang)
    found = params["digest"]
    buildings = found.get("buildings")
    lines = [
        _headline(params, lang),
        _("Buildings: {buildings}").format(buildings=", ".join(buildings))
        if buildings
        else _("All buildings"),
    ]
    categories = found["categories"]
    if not categories:
        lines += ["", _("No new, handled or overdue cases in this period.")]
        return Notice("\n".join(lines))
    totals = [sum(line[key] for line in categories) for key in ("new", "handled", "overdue")]
    lines += [
        _("New: {new} · Handled: {handled} · Overdue now: {overdue}").format(
            new=totals[0], handled=totals[1], overdue=totals[2]
        ),
        "",
        _("By category (new / handled / overdue):"),
    ]
    lines += [
        f"{_name(line, lang)}: {line['new']} / {line['handled']} / {line['overdue']}"
        for line in categories
    ]
    if found["notable"]:
        lines += ["", _("Notable resolutions:")]
        lines += [_notable_line(item, lang) for item in found["notable"]]
    if found["hazards_rectified"]:
        lines.append(
            _("Hazards rectified in this period: {n}").format(n=found["hazards_rectified"])
        )
    return Notice("\n".join(lines))


@notice(MONTHLY_REPORT)
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


REASONS = {
    Reason.REFUSED: N_("Telegram refused it ({detail})"),
    Reason.MOVED: N_("the group was upgraded and has a new chat the bot does not know yet"),
    Reason.UNRENDERABLE: N_("the bot could not put it into words (a fault in the bot)"),
    Reason.ATTEMPTS: N_("it still failed after {attempts} tries"),
}


@notice(DELIVERY_FAILED)
def delivery_failed(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    template = REASONS.get(params["reason"], REASONS[Reason.REFUSED])
    reason = _(template).format(detail=params.get("detail") or "—", attempts=params["attempts"])
    name = params.get("recipient") or _("someone the bot no longer knows")
    if params.get("about_case") is not None:
        text = _(
            "⚠️ A notice about case #{number} could not be delivered to {name}: {reason}. "
            "Please let them know another way."
        ).format(number=params["about_case"], name=name, reason=reason)
    else:
        text = _(
            "⚠️ A notice could not be delivered to {name}: {reason}. "
            "Please let them know another way."
        ).format(name=name, reason=reason)
    return Notice(text)
