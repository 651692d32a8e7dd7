"""The monthly report goes out once per month, whatever the restarts, instances or missed days."""

from __future__ import annotations

import asyncio
from datetime import datetime
from unittest.mock import patch
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.config import load_settings
from bot.runtime import runtime
from bot.telegram.app import build_application
from handlers.notices import render_notice
from scheduler.core import JobContext
from scheduler.monthly_report import monthly_report, queue_monthly_report
from storage.db import create_engine, session_scope
from storage.ledger import claim_run, was_claimed
from storage.models import OutboxMessage
from storage.people.roles import Role, grant, revoke
from tests.handlers.office.test_stats import NOVEMBER_EN, build_month
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 8) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TZ)


async def _office(engine: AsyncEngine, *, with_secretaries: bool = True) -> None:
    """A resident, a Chinese- and an English-speaking secretary, and November 2025's cases."""
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        zhao, alice = await resident(s, 1003), await resident(s, 1004, lang="en")
        await grant(s, resident=zhao, role=Role.SECRETARY)
        await build_month(s, reporter=wang, secretary=zhao)
        if with_secretaries:
            await grant(s, resident=alice, role=Role.SECRETARY)
        else:  # build_month needed a secretary to work the cases; take the role back
            await revoke(s, resident=zhao, role=Role.SECRETARY)


async def _reports(engine: AsyncEngine) -> list[OutboxMessage]:
    async with session_scope(engine) as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == "monthly_report")
        return list((await s.exec(query.order_by(col(OutboxMessage.id)))).all())


async def test_on_the_first_each_secretary_gets_last_months_figures_once(
    engine: AsyncEngine,
) -> None:
    await _office(engine)
    assert await queue_monthly_report(engine, now=local(2025, 12, 1), tz=TZ) == 2
    assert await queue_monthly_report(engine, now=local(2025, 12, 1, 9), tz=TZ) is None
    rows = await _reports(engine)
    assert sorted(int(r.address) for r in rows) == [1003, 1004]
    assert {r.params["period"] for r in rows} == {"2025-11"}
    english = render_notice(rows[1].kind, rows[1].params, rows[1].lang).text
    assert rows[1].lang == "en" and english.startswith("Monthly report of the community office")
    assert all(line in english for line in NOVEMBER_EN if "Overdue" not in line)
    chinese = render_notice(rows[0].kind, rows[0].params, rows[0].lang).text
    assert "75.0%" in chinese and "33.33%" in chinese and "1,234,567" in chinese
    async with session_scope(engine) as s:
        assert await was_claimed(s, job="monthly_report", period="2025-11")
        assert not await claim_run(s, job="monthly_report", period="2025-11")


async def test_two_instances_at_the_same_moment_send_it_once(
    engine: AsyncEngine, database_url: str
) -> None:
    await _office(engine)
    second = create_engine(database_url)
    try:
        results = await asyncio.gather(
            queue_monthly_report(engine, now=local(2025, 12, 1), tz=TZ),
            queue_monthly_report(second, now=local(2025, 12, 1), tz=TZ),
        )
    finally:
        await second.dispose()
    assert sorted(results, key=str) == [2, None]
    assert len(await _reports(engine)) == 2


async def test_a_missed_first_is_caught_up_later_in_the_month(engine: AsyncEngine) -> None:
    await _office(engine)  # the bot was down on 1 and 2 December
    assert await queue_monthly_report(engine, now=local(2025, 12, 3), tz=TZ) == 2
    assert await queue_monthly_report(engine, now=local(2025, 12, 4), tz=TZ) is None
    assert {r.params["period"] for r in await _reports(engine)} == {"2025-11"}


async def test_no_report_on_other_days_once_claimed_and_the_next_month_on_its_first(
    engine: AsyncEngine,
) -> None:
    await _office(engine)
    assert await queue_monthly_report(engine, now=local(2025, 12, 1), tz=TZ) == 2
    for day in range(2, 32):
        assert await queue_monthly_report(engine, now=local(2025, 12, day), tz=TZ) is None
    # 1 January 08:00 in Beijing is still 31 December in UTC: the local date decides
    assert await queue_monthly_report(engine, now=local(2026, 1, 1), tz=TZ) == 2
    periods = [r.params["period"] for r in await _reports(engine)]
    assert periods == ["2025-11", "2025-11", "2025-12", "2025-12"]


async def test_without_a_secretary_the_month_waits_unclaimed(engine: AsyncEngine) -> None:
    await _office(engine, with_secretaries=False)
    assert await queue_monthly_report(engine, now=local(2025, 12, 1), tz=TZ) is None
    async with session_scope(engine) as s:
        assert not await was_claimed(s, job="monthly_report", period="2025-11")
        await grant(s, resident=await resident(s, 1004, lang="en"), role=Role.SECRETARY)
    assert await queue_monthly_report(engine, now=local(2025, 12, 2), tz=TZ) == 1


async def test_the_job_uses_the_clock_and_is_scheduled_daily_at_eight_local(
    engine: AsyncEngine,
) -> None:
    await _office(engine)
    settings = load_settings(telegram_token="123:abc")
    context = JobContext(engine=engine, settings=settings)
    with patch("scheduler.monthly_report.utcnow", return_value=local(2025, 12, 1)):
        await monthly_report(context)
        await monthly_report(context)
    assert len(await _reports(engine)) == 2

    scheduler = runtime(build_application(settings, engine).bot_data).scheduler
    assert scheduler is not None
    trigger = scheduler.job("monthly-report").trigger
    assert str(trigger.timezone) == "Asia/Shanghai"
    fields = {f.name: str(f) for f in trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("8", "0")
    assert len(fields["day_of_week"].split(",")) == 7  # every day: how a missed 1st catches up
    assert scheduler.has("monthly-report-catch-up")
