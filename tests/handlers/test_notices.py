"""The notice registry (handlers/notices.py): every capability's kinds, and no import cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handlers.notices import RENDERERS, Notice, UnknownNotice, render_notice

ROOT = Path(__file__).resolve().parents[2]
CAPABILITIES = (
    "handlers.cases.notices",
    "handlers.deliberation.notices",
    "handlers.office.notices",
    "handlers.whistle.notices",
    "handlers.whistle.result_notices",
)


@pytest.mark.parametrize("module", CAPABILITIES)
def test_a_capabilitys_notices_load_without_the_registry(module: str) -> None:
    # They register into handlers/words/notice.py; only the registry imports them, never back.
    code = f"import sys, {module}\nprint('handlers.notices' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_the_registry_renders_every_capabilitys_kinds() -> None:
    assert {"assigned", "reply_filed", "meeting_minutes", "digest", "monthly_report"} <= set(
        RENDERERS
    )
    assert {"delivery_failed", "whistle", "whistle_report", "whistle_results"} <= set(RENDERERS)
    assert render_notice("text", {"text": "你好"}, "zh") == Notice("你好")
    with pytest.raises(UnknownNotice):
        render_notice("from_a_newer_version", {}, "zh")


@pytest.mark.parametrize("data", ["", "x" * 65, "议" * 22])
def test_a_button_over_the_codecs_limit_is_refused_when_rendered(data: str) -> None:
    with pytest.raises(ValueError, match="callback data"):
        Notice("press", buttons=[[("label", data)]])
