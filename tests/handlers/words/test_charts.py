"""The chart is a real PNG, and its Chinese words are drawn in a font that has their glyphs.

pytest turns warnings into errors, so a glyph missing from the font (matplotlib warns) fails
these tests too.
"""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import replace
from zoneinfo import ZoneInfo

import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.image import imread

from handlers.words.charts import DPI, FONT_FAMILY, HEIGHT, WIDTH, chart_png, cjk_font, render_chart
from handlers.words.i18n import translator
from handlers.words.render import STATUS_LABELS
from storage.figures.stats import (
    CategoryCount,
    DemandFigures,
    Durations,
    Figures,
    HazardFigures,
    MonthCount,
    Satisfaction,
)
from storage.periods import month

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
NOVEMBER = month(2026, 11, ZoneInfo("Asia/Shanghai"))
FIGURES = Figures(
    period=NOVEMBER,
    category=None,
    demand=DemandFigures(accepted=9, handled=7),
    hazards=HazardFigures(found=3, rectified=2),
    first_response=Durations(9, 2.0, 8.0),
    resolution=Durations(7, 20.0, 60.0),
    overdue_now=1,
    satisfaction=Satisfaction(4, 4.25),
    by_category=[
        CategoryCount("labour", "劳资纠纷", "Labour disputes", "closed", 2),
        CategoryCount("safety", "安全隐患", "Safety hazards", "new", 1),
        CategoryCount("safety", "安全隐患", "Safety hazards", "resolved", 5),
        CategoryCount("safety", "安全隐患", "Safety hazards", "rejected", 1),
    ],
    trend=[MonthCount(f"2025-{m:02d}", m % 5, m % 3) for m in range(12, 13)]
    + [MonthCount(f"2026-{m:02d}", m % 5, m % 3) for m in range(1, 12)],
)


def _pixels(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return imread(io.BytesIO(png), format="png")


def test_the_chart_is_a_png_of_the_expected_size_and_not_blank() -> None:
    pixels = _pixels(render_chart(FIGURES, "zh"))
    assert pixels.shape[:2] == (HEIGHT * DPI, WIDTH * DPI)
    assert pixels[..., :3].std() > 0.05, "something is drawn, not one flat colour"
    # the bars' colours are there: some pixels are clearly neither white nor grey
    rgb = pixels[..., :3]
    assert ((rgb.max(axis=2) - rgb.min(axis=2)) > 0.3).mean() > 0.01


def test_a_period_without_cases_still_draws_and_says_no_data() -> None:
    empty = replace(
        FIGURES,
        demand=DemandFigures(0, 0),
        by_category=[],
        trend=[replace(m, accepted=0, handled=0) for m in FIGURES.trend],
    )
    for lang in ("zh", "en"):
        pixels = _pixels(render_chart(empty, lang))
        assert pixels.shape[:2] == (HEIGHT * DPI, WIDTH * DPI)
        assert pixels[..., :3].std() > 0.01


async def test_chart_png_draws_off_the_event_loop_and_charts_can_be_drawn_together() -> None:
    zh, en = await asyncio.gather(chart_png(FIGURES, "zh"), chart_png(FIGURES, "en"))
    assert zh != en  # category and status names in each reader's language
    assert _pixels(zh).shape == _pixels(en).shape


def test_the_chinese_labels_have_glyphs_in_the_font_that_draws_them() -> None:
    font = cjk_font()
    path = findfont(font, fallback_to_default=False)
    assert "NotoSansCJK" in path
    charmap = FT2Font(path).get_charmap()
    _ = translator("zh")
    labels = [
        "安全隐患",
        "劳资纠纷",
        "受理诉求",
        "办结",
        "暂无数据",
        *(_(label) for label in STATUS_LABELS.values()),
        _("Cases by category and status"),
        _("Monthly trend: cases accepted and handled"),
        _("Cases accepted"),
        _("Cases handled"),
        _("Figures for {period}"),
    ]
    chinese = {ch for label in labels for ch in CJK.findall(label)}
    assert len(chinese) > 20
    missing = sorted(ch for ch in chinese if ord(ch) not in charmap)
    assert missing == []


def test_a_chinese_label_drawn_by_name_uses_that_font_and_warns_of_no_missing_glyph() -> None:
    cjk_font()  # registered
    figure = Figure(figsize=(2, 1), dpi=DPI)
    text = figure.text(
        0.1, 0.5, "受理诉求 办结率 96.6%", fontproperties=FontProperties(family=FONT_FAMILY)
    )
    figure.savefig(io.BytesIO(), format="png")  # a missing glyph would warn, hence fail
    assert "NotoSansCJK" in findfont(text.get_fontproperties(), fallback_to_default=False)
