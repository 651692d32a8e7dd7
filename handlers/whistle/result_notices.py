"""A whistle's results and reminder as outbox notices, and the results' words and bar chart.

The rows carry plain numbers and texts (storage/whistle/notices.py), never a name, so the
secretary, each group and /whistles word them in their own language at send time. The results
go as two notices: the text (up to 4096 characters) and the chart (a photo, whose caption is
short), drawn in the sender's thread (heavy=True) with the CJK font of handlers/words/charts.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator, PercentFormatter

from handlers.words.charts import draw_png
from handlers.words.i18n import ngettext, translator
from handlers.words.notice import RENDERERS, Notice, notice
from handlers.words.render import local_time
from storage.whistle.notices import CHART, REMINDER, RESULTS

TEXT_LIMIT, CAPTION = 4000, 200


def _deadline(params: dict[str, Any]) -> str:
    return local_time(datetime.fromisoformat(params["deadline"]), ZoneInfo(params["tz"]))


def _percent(answered: int, reached: int) -> str:
    return f"{round(100 * answered / reached)}%" if reached else "–"


def results_text(params: dict[str, Any], lang: str) -> str:
    """The results in words: options, response rate by building, opinions grouped."""
    _ = translator(lang)
    title = _("Results of whistle #{number}") if params["final"] else _("Whistle #{number} so far")
    lines = [title.format(number=params["whistle"]), params["question"]]
    if params.get("deadline"):
        lines.append(_("Deadline: {time}").format(time=_deadline(params)))
    if params["options"]:
        lines += ["", _("Answers:")]
        for label, count, outside in params["options"]:
            line = f"· {label}: {count}"
            if outside:
                line += " " + _("(+{count} from outside the audience)").format(count=outside)
            lines.append(line)
    buildings = params["buildings"]
    reached = sum(b[1] for b in buildings)
    answered = sum(b[2] for b in buildings)
    outside = sum(b[3] for b in buildings)
    lines += [
        "",
        _("Responses: {answered} of {reached} reached ({rate})").format(
            answered=answered, reached=reached, rate=_percent(answered, reached)
        ),
    ]
    if buildings:
        lines.append(_("By building:"))
        for name, in_reach, responded, _outside in buildings:
            place = name or _("unknown building")
            lines.append(f"· {place}: {responded}/{in_reach} ({_percent(responded, in_reach)})")
    if outside:
        lines.append(
            ngettext(
                lang,
                "{count} response came from outside the audience (not in the rates).",
                "{count} responses came from outside the audience (not in the rates).",
                outside,
            ).format(count=outside)
        )
    lines += _opinions(params, lang)
    text = "\n".join(lines)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _opinions(params: dict[str, Any], lang: str) -> list[str]:
    _ = translator(lang)
    if not params["opinion_count"]:
        return []
    lines = [
        "",
        _("Opinions ({count}), the most common first:").format(count=params["opinion_count"]),
    ]
    lines += [f"· ×{count} “{text}”" for text, count in params["opinions"]]
    if params["other_opinions"]:
        lines.append(_("… and {count} more").format(count=params["other_opinions"]))
    return lines


@notice(RESULTS)
def whistle_results(params: dict[str, Any], lang: str) -> Notice:
    """To the secretary who blew the whistle (and its groups, if chosen), at the deadline."""
    return Notice(results_text(params, lang))


@notice(CHART, heavy=True)
def whistle_chart(params: dict[str, Any], lang: str) -> Notice:
    """The results' bar chart, drawn at send time in the sender's thread."""
    _ = translator(lang)
    caption = _("Whistle #{number}: {question}").format(
        number=params["whistle"], question=params["question"]
    )
    caption = caption if len(caption) <= CAPTION else caption[: CAPTION - 1] + "…"
    return Notice(caption, image=results_chart(params, lang))


@notice(REMINDER)
def whistle_reminder(params: dict[str, Any], lang: str) -> Notice:
    """To a subscriber who has not answered yet, once, before the deadline."""
    _ = translator(lang)
    headline = _(
        "Reminder: the community office is still waiting for your answer to whistle #{number}."
    ).format(number=params["whistle"])
    closes = _("Answers close at {time}.").format(time=_deadline(params))
    carrier = params.get("carrier")
    if carrier and carrier["kind"] in RENDERERS:  # the whistle itself, with its buttons
        whistle = RENDERERS[carrier["kind"]]({**carrier["params"], "group": False}, lang)
        text = f"{headline} {closes}\n\n{whistle.text}"
        return Notice(text[:TEXT_LIMIT], buttons=whistle.buttons)
    return Notice("\n".join([headline, params["question"], closes]))


def results_chart(params: dict[str, Any], lang: str) -> bytes:
    """Counts per option above, response rate per building below; PNG bytes. Blocking."""
    _ = translator(lang)
    return draw_png(
        _("Whistle #{number}").format(number=params["whistle"]),
        [
            lambda ax, font: _options_panel(ax, params, lang, font),
            lambda ax, font: _buildings_panel(ax, params, lang, font),
        ],
        size=(8, 7),
    )


def _options_panel(ax: Axes, params: dict[str, Any], lang: str, font: FontProperties) -> None:
    _ = translator(lang)
    ax.set_title(_("Answers per option"), fontproperties=font, loc="left")
    options = params["options"]
    if not options:
        ax.text(0.5, 0.5, _("no answer buttons"), ha="center", va="center", fontproperties=font)
        ax.set_axis_off()
        return
    rows = range(len(options))[::-1]  # the first option on top
    inside = [o[1] for o in options]
    outside = [o[2] for o in options]
    ax.barh(rows, inside, height=0.6, color="#2171b5", label=_("in the audience"))
    if any(outside):
        ax.barh(
            rows, outside, left=inside, height=0.6, color="#bdbdbd", label=_("outside the audience")
        )
        ax.legend(prop=font, loc="lower right")
    for y, a, b in zip(rows, inside, outside, strict=True):
        ax.text(a + b, y, f" {a + b}", va="center", fontproperties=font)
    ax.set_yticks(list(rows), labels=[o[0] for o in options], fontproperties=font)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(1, *(a + b for a, b in zip(inside, outside, strict=True))) * 1.15)


def _buildings_panel(ax: Axes, params: dict[str, Any], lang: str, font: FontProperties) -> None:
    _ = translator(lang)
    ax.set_title(_("Response rate by building"), fontproperties=font, loc="left")
    buildings = [b for b in params["buildings"] if b[1]]
    if not buildings:
        ax.text(0.5, 0.5, _("nobody reached yet"), ha="center", va="center", fontproperties=font)
        ax.set_axis_off()
        return
    rows = range(len(buildings))[::-1]
    rates = [b[2] / b[1] for b in buildings]
    ax.barh(rows, rates, height=0.6, color="#41ab5d")
    for y, (_name, reached, answered, _out) in zip(rows, buildings, strict=True):
        ax.text(answered / reached, y, f" {answered}/{reached}", va="center", fontproperties=font)
    labels = [b[0] or _("unknown building") for b in buildings]
    ax.set_yticks(list(rows), labels=labels, fontproperties=font)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1.15)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
