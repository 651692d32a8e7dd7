"""Weekly and monthly digests: the right period in local time, to each registered group, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import load_settings
from bot.runtime import runtime
from bot.telegram.app import build_application
from handlers.notices import render_notice
from scheduler.digests import due_period, queue_digests
from storage.db import session_scope
from storage.ledger import was_claimed
from storage.models import Group, OutboxMessage
from tests.storage.deliberation.test_digests import add_case, support
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("now", "label", "first", "last"),
    [
        (local(2026, 11, 30, 9), "2026-W48", date(2026, 11, 23), date(2026, 11, 29)),
        # Monday before 09:00: this week's digest is not due yet, the one before is
        (local(2026, 11, 30, 8, 59), "2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
        (local(2026, 12, 3, 15), "2026-W48", date(2026, 11, 23), date(2026, 11, 29)),
        # a week across the turn of the month and of the year
        (local(2026, 12, 7, 9), "2026-W49", date(2026, 11, 30), date(2026, 12, 6)),
        (local(2027, 1, 4, 10), "2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
    ],
)
def test_the_weekly_digest_covers_the_last_monday_to_sunday_due(
    now: datetime, label: str, first: date, last: date
) -> None:
    period = due_period("weekly", now, TZ)
    assert (period.label, period.first_day, period.last_day) == (label, first, last)
    assert period.start == local(first.year, first.month, first.day)


@pytest.mark.parametrize(
    ("now", "label"),
    [
        (local(2026, 12, 1, 9), "2026-11"),
        (local(2026, 12, 1, 8, 59), "2026-10"),
        (local(2026, 12, 31, 23, 59), "2026-11"),
        # 1 January 09:30 in Beijing is still 31 December in UTC: local time decides
        (datetime(2027, 1, 1, 1, 30, tzinfo=UTC), "2026-12"),
        (local(2026, 3, 1, 9), "2026-02"),
    ],
)
def test_the_monthly_digest_covers_the_last_calendar_month_due(now: datetime, label: str) -> None:
    period = due_period("monthly", now, TZ)
    assert period.label == label
    assert period.start == local(period.first_day.year, period.first_day.month, 1)
    assert period.end == local(*(period.last_day + timedelta(days=1)).timetuple()[:3])


async def register(
    session: AsyncSession, external_id: int, buildings: list[str], *, registered: bool = True
) -> Group:
    group = Group(
        external_id=external_id,
        title=f"Group {external_id}",
        buildings=buildings,
        registered_at=local(2026, 1, 1) if registered else None,
    )
    session.add(group)
    await session.flush()
    return group


async def digests(engine: AsyncEngine) -> list[OutboxMessage]:
    async with session_scope(engine) as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == "digest")
        return list((await s.exec(query.order_by(col(OutboxMessage.id)))).all())


async def november(engine: AsyncEngine) -> None:
    """Three registered groups (building 3; buildings 3 and 5; every building), one that is
    not registered, and November's cases, one of them anonymous and supported."""
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        wang.name = "王大伟"
        neighbours = [await resident(s, 2000 + n) for n in range(3)]
        await register(s, -100, ["3"])
        await register(s, -200, ["5", "3"])
        await register(s, -300, [])
        await register(s, -400, ["3"], registered=False)
        nov = local(2026, 11, 10)
        await add_case(s, wang, "property", building="3", filed=nov)
        await add_case(s, wang, "property", building="5", filed=nov)
        await add_case(s, wang, "environment", building="9", filed=nov)
        # 1 December 00:30 in Beijing, still 30 November in UTC: December's, not November's
        await add_case(s, wang, "property", building="3", filed=local(2026, 12, 1, 0, 30))
        # 30 November 23:30 in Beijing: November's
        await add_case(s, wang, "safety", building="3", filed=local(2026, 11, 30, 23, 30))
        hidden = await add_case(
            s, wang, "environment", building="3", filed=nov, status="resolved",
            resolved=local(2026, 11, 20), anonymous=True, text="东门垃圾桶满了没人清理",
        )  # fmt: skip
        await support(s, hidden, neighbours)


async def test_each_registered_group_gets_the_digest_of_its_buildings(
    engine: AsyncEngine,
) -> None:
    await november(engine)
    assert await queue_digests(engine, cadence="monthly", now=local(2026, 12, 1, 9), tz=TZ) == 3
    rows = await digests(engine)
    assert [int(r.address) for r in rows] == [-100, -200, -300]
    assert {r.params["period"] for r in rows} == {"2026-11"}
    assert [r.dedup_key for r in rows] == [f"digest:monthly:2026-11:{n}" for n in (1, 2, 3)]

    def counts(row: OutboxMessage) -> dict[str, tuple[int, int, int]]:
        lines = row.params["digest"]["categories"]
        return {x["code"]: (x["new"], x["handled"], x["overdue"]) for x in lines}

    assert counts(rows[0]) == {"safety": (1, 0, 0), "property": (1, 0, 0), "environment": (1, 1, 0)}
    assert counts(rows[1])["property"] == (2, 0, 0)
    assert counts(rows[2])["environment"] == (2, 1, 0)
    for row in rows:
        assert row.lang == "zh"
        text = render_notice(row.kind, row.params, row.lang).text
        assert "王大伟" not in text and "Resident" not in text
        assert "东门垃圾桶" not in text  # the anonymous case, by category only
        assert "3 人支持" in text or "3 resident" in text
    chinese = render_notice(rows[0].kind, rows[0].params, "zh").text
    english = render_notice(rows[1].kind, rows[1].params, "en").text
    assert "物业服务" in chinese and "2026-11" in chinese
    assert english.splitlines()[:2] == ["Monthly case digest: 2026-11", "Buildings: 3, 5"]
    assert "New: 4 · Handled: 1 · Overdue now: 0" in english
    assert "An anonymous report (Environment and sanitation): 3 residents supported it" in english
    assert "All buildings" in render_notice(rows[2].kind, rows[2].params, "en").text


async def test_weekly_and_monthly_are_separate_and_a_quiet_week_says_so(
    engine: AsyncEngine,
) -> None:
    await november(engine)
    now = local(2026, 12, 7, 9)  # the week of 30 November to 6 December, and November
    assert await queue_digests(engine, cadence="weekly", now=now, tz=TZ, lang="en") == 3
    assert await queue_digests(engine, cadence="monthly", now=now, tz=TZ, lang="en") == 3
    rows = await digests(engine)
    assert [r.params["period"] for r in rows] == ["2026-W49"] * 3 + ["2026-11"] * 3
    weekly = render_notice(rows[1].kind, rows[1].params, rows[1].lang).text
    assert weekly.startswith("Weekly case digest: 2026-11-30 to 2026-12-06")
    assert "Property service: 1 / 0 / 0" in weekly  # filed 1 December 00:30 local
    assert "Safety hazard: 1 / 0 / 0" in weekly  # Monday 30 November 23:30 local
    async with session_scope(engine) as s:
        await register(s, -500, ["12"])
    later = local(2026, 12, 14, 9)
    assert await queue_digests(engine, cadence="weekly", now=later, tz=TZ, lang="en") == 4
    quiet = (await digests(engine))[-1]
    assert int(quiet.address) == -500
    assert "No new, handled or overdue cases" in render_notice(quiet.kind, quiet.params, "en").text


async def test_without_a_registered_group_the_period_waits_unclaimed(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        await register(s, -400, ["3"], registered=False)
    now = local(2026, 12, 1, 9)
    assert await queue_digests(engine, cadence="monthly", now=now, tz=TZ) is None
    async with session_scope(engine) as s:
        assert not await was_claimed(s, job="digest-monthly", period="2026-11")
        group = (await s.exec(select(Group))).one()
        group.registered_at = now
        s.add(group)
    assert await queue_digests(engine, cadence="monthly", now=now + timedelta(days=1), tz=TZ) == 1


async def test_the_jobs_run_on_monday_and_the_first_at_nine_local(engine: AsyncEngine) -> None:
    app = build_application(load_settings(telegram_token="123:abc"), engine)
    scheduler = runtime(app.bot_data).scheduler
    assert scheduler is not None
    weekly, monthly = scheduler.job("weekly-digest"), scheduler.job("monthly-digest")
    for job, field, value in ((weekly, "day_of_week", "mon"), (monthly, "day", "1")):
        trigger = job.trigger
        assert str(trigger.timezone) == "Asia/Shanghai"
        fields = {f.name: str(f) for f in trigger.fields}
        assert (fields[field], fields["hour"], fields["minute"]) == (value, "9", "0")
        assert job.misfire_grace_time >= 3600  # a late run still runs: the ledger dedups
    assert scheduler.has("weekly-digest-catch-up")
    assert scheduler.has("monthly-digest-catch-up")
