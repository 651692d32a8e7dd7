"""Telegram's size limits and how a text is made to fit them (bot/telegram/limits.py)."""

from __future__ import annotations

import pytest

from bot.telegram.limits import (
    CALLBACK_DATA_MAX,
    check_callback_data,
    cut_text,
    split_text,
    utf16_len,
)
from handlers.actions import MAX_ID
from handlers.notices import RENDERERS, Notice, render_notice


def test_length_is_counted_in_utf16_code_units() -> None:
    assert utf16_len("议事") == 2
    assert utf16_len("😀a") == 3  # outside the Basic Multilingual Plane: two code units
    assert utf16_len("⚠️") == 2  # a BMP sign and a variation selector


def test_split_prefers_line_breaks_then_spaces_and_loses_no_word() -> None:
    assert split_text("short", 10) == ["short"]
    assert split_text("one two\nthree four", 12) == ["one two", "three four"]
    assert split_text("alpha beta gamma", 11) == ["alpha beta", "gamma"]
    assert split_text("abcdefghij", 4) == ["abcd", "efgh", "ij"]  # no blank: anywhere
    assert split_text("  padded  ", 10) == ["padded"]


def test_split_never_cuts_an_emoji_in_half() -> None:
    assert split_text("😀😀😀", 3) == ["😀", "😀", "😀"]
    assert split_text("a😀b", 2) == ["a", "😀", "b"]


def test_cut_ends_with_an_ellipsis_within_the_limit() -> None:
    assert cut_text("fits", 4) == "fits"
    assert cut_text("does not fit", 8) == "does no…"
    assert cut_text("ab😀cd", 4) == "ab…"  # the emoji would need two units, only one is left
    assert utf16_len(cut_text("😀" * 5000)) <= 4096


@pytest.mark.parametrize("data", ["", "x" * 65, "议" * 22])
def test_a_button_telegram_would_refuse_is_a_programming_error(data: str) -> None:
    with pytest.raises(ValueError, match="callback data"):
        check_callback_data(data)
    with pytest.raises(ValueError, match="callback data"):
        Notice("press", buttons=[[("label", data)]])


def test_callback_data_may_use_all_64_bytes() -> None:
    check_callback_data("x" * CALLBACK_DATA_MAX)
    check_callback_data("议" * 21)  # 63 bytes of UTF-8


BIG = MAX_ID  # the largest id a row can have (handlers/actions.py): the longest callback data
CASE = {
    "case": BIG,
    "category": {"zh": "安全隐患", "en": "Safety hazard"},
    "text": "楼道堵塞",
    "reporter": "王 芳",
    "address": "5号楼",
    "location": [31.2, 121.4],
    "photos": 2,
    "due_at": "2026-12-01T00:00:00+00:00",
    "reason": "没有解决",
    "message": "又堵上了",
    "by": "物业",
}
DECISION = {"decision": BIG, "text": "修路灯", "owner_person": "李 强", "due": "2026-12-01"}
MEETING = {"meeting": BIG, "period": "2026-12", "when": "2026-12-26 19:30"}
ITEMS = [{"n": 1, "kind": "proposal", "title": "路灯"}]
WHISTLE = {
    "whistle": BIG,
    "question": "装不装电梯？",
    "options": ["装", "不装", "再议"],
    "free_text": True,
    "deadline_at": "2026-12-01T00:00:00+00:00",
    "tz": "Asia/Shanghai",
}
RESULTS = {
    "whistle": BIG,
    "question": "装不装电梯？",
    "final": True,
    "deadline": "2026-12-01T00:00:00+00:00",
    "tz": "Asia/Shanghai",
    "options": [["装", 3, 1], ["不装", 1, 0]],
    "buildings": [["5", 10, 4, 1]],
    "opinions": [["尽快装", 2]],
    "opinion_count": 2,
    "other_opinions": 0,
}
SUMMARY = {
    "period": "2026-11",
    "accepted": 10,
    "handled": 8,
    "found": 2,
    "rectified": 1,
    "first_response": [1.5, 3.0],
    "resolution": [20.0, 48.0],
    "overdue_now": 1,
    "satisfaction": [4.5, 6],
}
DIGEST = {
    "buildings": ["5"],
    "categories": [
        {"name_zh": "安全隐患", "name_en": "Safety hazard", "new": 2, "handled": 1, "overdue": 0}
    ],
    "notable": [],
    "hazards_rectified": 0,
}
# One example of every notice kind's params, with the longest ids there are. A new kind needs
# its example here: that is how its buttons are known to fit Telegram's 64 bytes.
SAMPLES: dict[str, dict] = {
    "assigned": CASE,
    "reopened": CASE,
    "followup": CASE,
    "due_soon": CASE,
    "overdue": CASE,
    "returned": CASE,
    "case_update": {"case": BIG, "status": "resolved", "event": "resolved", "note": "修好了"},
    "decision_done": DECISION,
    "decision_late": DECISION,
    "decision_soon": DECISION,
    "delivery_failed": {
        "about_case": BIG, "recipient": "李 强", "reason": "refused", "detail": "x", "attempts": 1
    },
    "disputes_returned": {"mediator": "李强", "cases": [BIG, BIG - 1]},
    "digest": {
        "cadence": "weekly", "period": "2026-W48", "first_day": "2026-11-23",
        "last_day": "2026-11-29", "digest": DIGEST,
    },
    "meeting_topics": MEETING,
    "meeting_draft": {**MEETING, "items": ITEMS, "again": True},
    "meeting_agenda": {**MEETING, "items": ITEMS},
    "meeting_reminder": MEETING,
    "meeting_open": MEETING,
    "meeting_item": {"item": BIG, "n": 1, "total": 3, "kind": "proposal", "title": "路灯"},
    "meeting_decided": DECISION,
    "meeting_minutes": {
        **MEETING,
        "items": [{"n": 1, "title": "路灯", "outcome": "decided", "votes": {"for": 3}}],
        "decisions": [DECISION],
    },
    "monthly_report": {"period": "2026-11", "summary": SUMMARY},
    "reply_filed": {"case": BIG},
    "reply_filed_in_group": {"case": BIG, "reply_to": BIG},
    "text": {"text": "你好"},
    "whistle": WHISTLE,
    "whistle_case": {"whistle": BIG, "case": BIG},
    "whistle_chart": RESULTS,
    "whistle_reminder": {
        "whistle": BIG, "question": "装不装电梯？", "deadline": "2026-12-01T00:00:00+00:00",
        "tz": "Asia/Shanghai", "carrier": {"kind": "whistle", "params": WHISTLE},
    },
    "whistle_report": {
        **WHISTLE, "status": "open", "queued": 9, "sent": 8, "failed": 0, "blocked": 1,
        "final": False, "message_id": BIG,
    },
    "whistle_results": RESULTS,
}  # fmt: skip


def test_every_notice_kind_has_an_example() -> None:
    assert sorted(SAMPLES) == sorted(RENDERERS)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_buttons_of_every_notice_fit_telegram(kind: str) -> None:
    for lang in ("zh", "en"):
        rendered = render_notice(kind, SAMPLES[kind], lang)  # raises on data over 64 bytes
        for row in rendered.buttons:
            for _label, data in row:
                assert len(data.encode("utf-8")) <= CALLBACK_DATA_MAX
