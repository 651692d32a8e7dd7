"""The case-status digest to a community group (outbox kind "digest"), worded at send time.

The row carries numbers, category names in both languages and masked excerpts
(storage/deliberation/digests.py: digest_params); never a reporter's name, and an anonymous case
only by its category.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.notices import Notice, notice
from handlers.words.i18n import ngettext, translator

logger = logging.getLogger(__name__)

KIND = "digest"
WEEKLY = "weekly"
MONTHLY = "monthly"


def digest_notice_params(
    *, cadence: str, label: str, first_day: str, last_day: str, digest: dict[str, Any]
) -> dict[str, Any]:
    """What the job stores in each group's outbox row."""
    return {
        "cadence": cadence,
        "period": label,
        "first_day": first_day,
        "last_day": last_day,
        "digest": digest,
    }


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


@notice(KIND)
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
