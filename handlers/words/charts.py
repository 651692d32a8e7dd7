"""The figures as a chart (PNG): cases by category and status, and the twelve-month trend.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global figure state), in a
thread (`chart_png`) so the event loop keeps serving. Every text element names the Noto Sans
CJK SC font that the mplfonts package installs alongside matplotlib, so Chinese labels come
out as characters, not boxes, on any machine without system fonts or root.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ticker import MaxNLocator

from handlers.words.i18n import translator
from handlers.words.render import STATUS_LABELS, status_label
from storage.figures.stats import Figures

logger = logging.getLogger(__name__)

FONT_FAMILY = "Noto Sans CJK SC"
FONT_FILE = "NotoSansCJKsc-Regular.otf"
WIDTH, HEIGHT, DPI = 8, 9, 100  # inches, inches, dots per inch: an 800 x 900 PNG
STATUS_COLOURS = {
    "new": "#9ecae1",
    "accepted": "#4292c6",
    "in_progress": "#2171b5",
    "resolved": "#41ab5d",
    "closed": "#006d2c",
    "rejected": "#ef6548",
    "duplicate": "#bdbdbd",
    "reopened": "#fd8d3c",
}

# matplotlib's font registry and text layout are shared, not thread-safe state: one chart at
# a time (they are rare and take a fraction of a second).
_lock = threading.Lock()
_registered = False


def font_path() -> Path:
    """The CJK font file inside the installed mplfonts package (found without importing it)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or spec.origin is None:
        raise RuntimeError("the mplfonts package is missing: it is one of Yishi's dependencies")
    return Path(spec.origin).parent / "fonts" / FONT_FILE


def cjk_font() -> FontProperties:
    """The font for every text element; registers it with matplotlib on first use."""
    global _registered
    if not _registered:
        with _lock:
            if not _registered:
                fontManager.addfont(str(font_path()))
                _registered = True
                logger.debug("registered %s for charts", FONT_FAMILY)
    return FontProperties(family=FONT_FAMILY)


def _by_category(ax: Axes, figures: Figures, lang: str, font: FontProperties) -> None:
    _ = translator(lang)
    ax.set_title(_("Cases by category and status"), fontproperties=font, loc="left")
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    names: dict[str, str] = {}
    for row in figures.by_category:
        counts[row.code][row.status] = row.count
        names[row.code] = row.name_zh if lang == "zh" else row.name_en
    if not counts:
        ax.text(0.5, 0.5, _("no data"), ha="center", va="center", fontproperties=font)
        ax.set_axis_off()
        return
    codes = sorted(counts, key=lambda code: sum(counts[code].values()))  # biggest on top
    lefts = [0] * len(codes)
    for status in STATUS_LABELS:
        widths = [counts[code].get(status, 0) for code in codes]
        if any(widths):
            ax.barh(
                range(len(codes)),
                widths,
                left=lefts,
                height=0.6,
                color=STATUS_COLOURS.get(status),
                label=status_label(status, lang),
            )
            lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
    for y, total in enumerate(lefts):
        ax.text(total, y, f" {total}", va="center", fontproperties=font)
    ax.set_yticks(range(len(codes)), labels=[names[c] for c in codes], fontproperties=font)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(lefts) * 1.12)
    small = font.copy()
    small.set_size("small")
    ax.legend(prop=small, loc="lower right")


def _trend(ax: Axes, figures: Figures, lang: str, font: FontProperties) -> None:
    _ = translator(lang)
    ax.set_title(_("Monthly trend: cases accepted and handled"), fontproperties=font, loc="left")
    months = [m.month for m in figures.trend]
    ax.plot(months, [m.accepted for m in figures.trend], marker="o", label=_("Cases accepted"))
    ax.plot(months, [m.handled for m in figures.trend], marker="s", label=_("Cases handled"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([1, *(m.accepted for m in figures.trend)]) * 1.15)
    ax.tick_params(axis="x", labelrotation=45)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(prop=font, loc="upper left")


Panel = Callable[[Axes, FontProperties], None]


def draw_png(
    title: str,
    panels: Sequence[Panel],
    *,
    size: tuple[float, float],
    height_ratios: Sequence[float] | None = None,
) -> bytes:
    """Panels stacked top to bottom under a title, as PNG bytes, Chinese drawn with the CJK
    font. Blocking: CPU work (callers on the event loop use a thread)."""
    font = cjk_font()
    with _lock:
        figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        canvas = FigureCanvasAgg(figure)
        figure.suptitle(title, fontproperties=font)
        axes = figure.subplots(len(panels), 1, height_ratios=height_ratios)
        for ax, panel in zip(axes, panels, strict=True):
            ax.tick_params(labelfontfamily=FONT_FAMILY)
            panel(ax, font)
        buffer = io.BytesIO()
        canvas.print_png(buffer)
    return buffer.getvalue()


def render_chart(figures: Figures, lang: str) -> bytes:
    """The two-panel chart as PNG bytes, words in the reader's language. Blocking: CPU work."""
    _ = translator(lang)
    return draw_png(
        _("Figures for {period}").format(period=figures.period.label),
        [
            lambda ax, font: _by_category(ax, figures, lang, font),
            lambda ax, font: _trend(ax, figures, lang, font),
        ],
        size=(WIDTH, HEIGHT),
        height_ratios=[3, 2],
    )


async def chart_png(figures: Figures, lang: str) -> bytes:
    """render_chart in a worker thread, so the event loop is never blocked by drawing."""
    return await asyncio.to_thread(render_chart, figures, lang)
