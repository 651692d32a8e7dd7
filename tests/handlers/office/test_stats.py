"""/stats through the emulator: secretaries get figures and a chart; nobody else sees them."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib.image import imread
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.telegram.emulator import Emulator
from handlers.office.stats import USAGE
from handlers.words.charts import DPI, HEIGHT, WIDTH
from handlers.words.i18n import translator
from scheduler.monthly_report import queue_monthly_report
from storage import people
from storage.cases import categories, feedback, open_case, routing, workflow
from storage.cases.disputes import record_dispute
from storage.db import session_scope
from storage.deliberation.meeting_models import Decision, Meeting
from storage.models import Case, Resident, utcnow
from storage.people.roles import Role, authority, grant
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest, texts

TZ = ZoneInfo("Asia/Shanghai")
NOVEMBER_2025 = datetime(2025, 11, 1, tzinfo=TZ)
STAFF = LI
# What November 2025 (built by build_month) adds up to, worked out by hand:
# residents' cases: 1 closed (5 stars), 2 resolved, 3 accepted and overdue, 4 rejected,
# 5 a labour dispute closed (3 stars, 12 people, 1,234,567 yuan); accepted 4 (all but #4),
# handled 3 (1, 2, 5): 75.0%. Hazards (inspection) 6, 7, 8, 6 rectified: 1 / 3 = 33.33%.
# First response (h): 1, 2, 3, 4, 6 -> nearest-rank median 3, p90 6.
# Resolution (h): 10, 20, 30, 50 -> median 20, p90 50. Satisfaction (5 + 3) / 2 = 4.0.
NOVEMBER_EN = [
    "📊 Figures for 2025-11",
    "Demand incidents: 4 accepted, 3 handled, completion rate 75.0%",
    "Hazards: 3 found, 1 rectified, rectification rate 33.33%",
    "Labour disputes resolved: 1, people involved: 12, amount involved: 1,234,567 yuan",
    "Time to first response: median 3.0 h, 90th percentile 6.0 h",
    "Time to resolution: median 20.0 h, 90th percentile 50.0 h",
    "Overdue now: 1",
    "Satisfaction: 4.0 of 5 from 2 ratings",
    "Meetings held: 0; decisions taken: 0, done in the period: 0, "
    "completion rate of the period's decisions no data",
]


async def build_month(s: AsyncSession, *, reporter: Resident, secretary: Resident) -> None:
    """November 2025's cases, filed and worked with the storage functions, then dated."""
    auth = await authority(s, resident=secretary, admin_ids=frozenset())
    message_ids = count(9000)

    async def file(code: str, source: str = "private") -> Case:
        category = await categories.category_by_code(s, code)
        case, _ = await open_case(
            s,
            reporter=reporter,
            category=category,
            text=f"{code} case",
            source=source,
            source_chat_id=reporter.external_id,
            source_message_id=next(message_ids),
        )
        return case

    async def resolve(case: Case, stars: int | None = None) -> None:
        await workflow.resolve(s, case=case, actor=secretary, auth=auth, note="已处理")
        if stars:
            await feedback.confirm_fixed(s, case=case, resident=reporter)
            await feedback.rate(s, case=case, resident=reporter, stars=stars)

    c1, c2, c3, c4, c5 = [
        await file(code) for code in ["safety"] * 2 + ["property"] * 2 + ["labour"]
    ]
    hazards = [await file("safety", source="inspection") for _ in range(3)]
    await resolve(c1, stars=5)
    await resolve(c2)
    await workflow.accept(s, case=c3, actor=secretary, auth=auth)
    await workflow.reject(s, case=c4, actor=secretary, auth=auth, reason="不归社区管")
    await record_dispute(
        s,
        case=c5,
        actor=secretary,
        auth=auth,
        parties="某公司与工人",
        people=12,
        amount_yuan=1234567,
    )
    await resolve(c5, stars=3)
    await resolve(hazards[0])
    dated = [(c1, 2, 10), (c2, 4, 30), (c3, 6, None), (c4, None, None), (c5, 1, 50)]
    dated += [(hazards[0], 3, 20), (hazards[1], None, None), (hazards[2], None, None)]
    for day, (case, first, resolved) in enumerate(dated, start=3):
        case.created_at = (NOVEMBER_2025 + timedelta(days=day, hours=10)).astimezone(UTC)
        case.first_response_at = case.created_at + timedelta(hours=first) if first else None
        case.resolved_at = case.created_at + timedelta(hours=resolved) if resolved else None
        s.add(case)
    c3.due_at = utcnow() - timedelta(hours=1)
    await s.flush()


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """Zhao (Chinese) and Alice (English) are secretaries; Li is safety staff; Wang a resident."""
    under_test = BotUnderTest(emu, database_url, admins=frozenset({ZHAO, ALICE}))
    await under_test.start()
    for user in (WANG, LI, ZHAO, ALICE):
        await under_test.say(user, "/start")
    async with session_scope(under_test.engine) as s:
        li = await people.find_resident(s, channel="telegram", external_id=str(STAFF))
        safety = await routing.unit_by_code(s, "safety")
        assert li is not None and safety is not None
        await grant(s, resident=li, role=Role.STAFF, unit_id=safety.id)
    yield under_test
    await under_test.stop()


async def with_november(bot: BotUnderTest) -> None:
    async with session_scope(bot.engine) as s:
        wang = await people.find_resident(s, channel="telegram", external_id=str(WANG))
        zhao = await people.find_resident(s, channel="telegram", external_id=str(ZHAO))
        assert wang and zhao
        await build_month(s, reporter=wang, secretary=zhao)


def figures_text(messages: list[dict[str, Any]]) -> str:
    found = [t for t in texts(messages) if t.startswith("📊")]
    assert len(found) == 1, texts(messages)
    return found[0]


def chart_pixels(bot: BotUnderTest, messages: list[dict[str, Any]]) -> Any:
    photos = [m for m in messages if m.get("photo")]
    assert len(photos) == 1
    png = bot.emu.file_bytes(photos[0]["photo"][-1]["file_id"])
    return imread(io.BytesIO(png), format="png")


async def test_a_secretary_gets_hand_checkable_figures_and_a_chart(bot: BotUnderTest) -> None:
    await with_november(bot)
    answer = await bot.say(ALICE, "/stats 2025-11")
    assert figures_text(answer).splitlines() == NOVEMBER_EN
    pixels = chart_pixels(bot, answer)
    assert pixels.shape[:2] == (HEIGHT * DPI, WIDTH * DPI) and pixels[..., :3].std() > 0.05
    assert answer.index(next(m for m in answer if m.get("photo"))) > 0, "text first, then chart"

    chinese = figures_text(await bot.say(ZHAO, "/stats 2025-11"))
    _ = translator("zh")
    assert _("Figures for {period}").format(period="2025-11") in chinese
    for number in ("75.0%", "33.33%", "1,234,567", "12", "20.0", "50.0", "4.0"):
        assert number in chinese


async def test_one_category_and_its_name_in_the_readers_language(bot: BotUnderTest) -> None:
    await with_november(bot)
    lines = figures_text(await bot.say(ALICE, "/stats 2025-11 safety")).splitlines()
    assert lines[1] == "Category: Safety hazard"
    assert lines[2] == "Demand incidents: 2 accepted, 2 handled, completion rate 100.0%"
    assert lines[3] == "Hazards: 3 found, 1 rectified, rectification rate 33.33%"
    assert not any("disputes" in line for line in lines)  # not counted by category


async def test_one_building_and_the_meetings_of_the_period(bot: BotUnderTest) -> None:
    await with_november(bot)
    async with session_scope(bot.engine) as s:
        cases = (await s.exec(select(Case).order_by(col(Case.id)))).all()
        for case in cases[:2]:  # the closed (5 stars) and the resolved safety cases
            case.building = "12"
            s.add(case)
        meeting = Meeting(period="2025-11", starts_at=NOVEMBER_2025, status="minuted")
        s.add(meeting)
        await s.flush()
        s.add(Decision(meeting_id=meeting.id, text="x", created_at=NOVEMBER_2025, status="done"))
    lines = figures_text(await bot.say(ALICE, "/stats 2025-11 building:12")).splitlines()
    assert lines[1:4] == [
        "Building: 12",
        "Demand incidents: 2 accepted, 2 handled, completion rate 100.0%",
        "Hazards: 0 found, 0 rectified, rectification rate no data",
    ]
    assert "Satisfaction: 5.0 of 5 from 1 ratings" in lines
    assert not any("disputes" in line or "Meetings" in line for line in lines)
    chinese = figures_text(await bot.say(ZHAO, "/stats 2025-11 safety 楼栋：12")).splitlines()
    _ = translator("zh")
    assert chinese[2] == _("Building: {building}").format(building="12")
    assert "100.0%" in chinese[3]
    everything = figures_text(await bot.say(ALICE, "/stats 2025-11")).splitlines()
    assert everything[-1] == (
        "Meetings held: 1; decisions taken: 1, done in the period: 0, "
        "completion rate of the period's decisions 100.0%"
    )
    assert texts(await bot.say(ALICE, "/stats building:1 building:2")) == [USAGE]


async def test_residents_and_staff_are_refused_and_see_no_figures(bot: BotUnderTest) -> None:
    await with_november(bot)
    refusal = translator("zh")("This is for community office staff.")
    for user in (WANG, STAFF):
        answer = await bot.say(user, "/stats 2025-11")  # notices about cases may arrive too
        assert refusal in texts(answer)
        assert not any(m.get("photo") or "%" in (m.get("text") or "") for m in answer)
    in_group = await bot.say(ZHAO, "/stats 2025-11", chat=GROUP)
    assert texts(in_group) == [translator("zh")("I answer this only in a private chat with you.")]


async def test_a_bad_period_or_category_is_explained(bot: BotUnderTest) -> None:
    for wrong in ("/stats 2025-13", "/stats 11-2025", "/stats 2026-11-15..2026-11-01"):
        answer = await bot.say(ALICE, wrong)
        assert texts(answer) == [USAGE] and "/stats 2026-11-01..2026-11-15" in USAGE
    assert texts(await bot.say(ZHAO, "/stats 2025-11 safety extra")) == [translator("zh")(USAGE)]
    for unknown in ("/stats 2025-11 parking", "/stats last-month"):
        first, usage = texts(await bot.say(ALICE, unknown))[0].split("\n")
        assert first.startswith("There is no category ") and "safety, property" in first
        assert usage == USAGE


async def test_a_period_with_no_cases_says_no_data(bot: BotUnderTest) -> None:
    await with_november(bot)
    answer = await bot.say(ALICE, "/stats 2024")
    assert figures_text(answer).splitlines()[1:] == [
        "Demand incidents: 0 accepted, 0 handled, completion rate no data",
        "Hazards: 0 found, 0 rectified, rectification rate no data",
        "Labour disputes resolved: 0, people involved: 0, amount involved: 0 yuan",
        "Time to first response: no data",
        "Time to resolution: no data",
        "Overdue now: 1",
        "Satisfaction: no data",
        NOVEMBER_EN[-1],
    ]
    assert chart_pixels(bot, answer).shape[:2] == (HEIGHT * DPI, WIDTH * DPI)
    chinese = figures_text(await bot.say(ZHAO, "/stats 2024-02-01..2024-02-29"))
    assert translator("zh")("no data") in chinese


async def test_the_monthly_report_reaches_each_secretary_in_their_language(
    bot: BotUnderTest,
) -> None:
    await with_november(bot)
    first_of_december = datetime(2025, 12, 1, 8, tzinfo=TZ)
    assert await queue_monthly_report(bot.engine, now=first_of_december, tz=TZ) == 2
    bot.sender.wake()
    english = await bot.emu.wait_for_bot_message(
        ALICE, predicate=lambda m: "Monthly report" in (m.get("text") or ""), timeout=5
    )
    # overdue is counted as of the report's (here made-up) time: only that line differs
    assert all(line in english["text"] for line in NOVEMBER_EN if "Overdue" not in line)
    assert "Overdue now: 0" in english["text"]
    assert "/stats 2025-11" in english["text"]
    _ = translator("zh")
    chinese = await bot.emu.wait_for_bot_message(
        ZHAO,
        predicate=lambda m: _("Monthly report of the community office") in (m.get("text") or ""),
        timeout=5,
    )
    assert "75.0%" in chinese["text"] and "1,234,567" in chinese["text"]
    assert not any("Monthly" in t or "📊" in t for t in texts(bot.emu.bot_messages(WANG)))
