"""The whistle sweep: one reminder to non-responders, results once at the deadline."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.config import load_settings
from bot.runtime import runtime
from bot.telegram.app import build_application
from handlers.notices import render_notice
from scheduler.core import JobContext
from scheduler.whistles import Swept, sweep_whistles, whistle_sweep
from storage.db import create_engine, session_scope
from storage.models import OutboxMessage
from storage.whistle.models import Whistle, WhistleDelivery
from tests.storage.whistle.test_results import DEADLINE, answer, blow, opine

TZ = ZoneInfo("Asia/Shanghai")
REMIND = DEADLINE - timedelta(hours=24)


async def _rows(engine: AsyncEngine, kind: str) -> list[OutboxMessage]:
    async with session_scope(engine) as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list((await s.exec(query.order_by(col(OutboxMessage.id)))).all())


async def _office(engine: AsyncEngine, *, to_groups: bool = True):  # type: ignore[no-untyped-def]
    """Six subscribers and two groups; the first two answer, the third writes an opinion."""
    async with session_scope(engine) as s:
        setup = await blow(s, buildings=["3", "3", "5", "5", None, "5"], groups=2)
        setup.whistle.results_to_groups = to_groups
        s.add(setup.whistle)
        await answer(s, setup, setup.people[0], 0)
        await answer(s, setup, setup.people[1], 1)
        await opine(s, setup, setup.people[2], "充电桩装在地下车库")
    return setup


async def test_reminder_once_to_non_responders_then_results_once_at_the_deadline(
    engine: AsyncEngine,
) -> None:
    setup = await _office(engine)
    assert await sweep_whistles(engine, now=REMIND - timedelta(minutes=1), tz=TZ) == Swept()
    swept = await sweep_whistles(engine, now=REMIND, tz=TZ)
    assert (swept.reminded, swept.reminders, swept.closed) == (1, 3, 0)
    reminders = await _rows(engine, "whistle_reminder")
    assert [int(r.address) for r in reminders] == [p.external_id for p in setup.people[3:]]
    async with session_scope(engine) as s:  # linked: a reply to the reminder is an opinion
        query = select(WhistleDelivery).where(col(WhistleDelivery.reminder_outbox_id).is_not(None))
        linked = {d.chat_id: d.reminder_outbox_id for d in (await s.exec(query)).all()}
    assert linked == {int(r.address): r.id for r in reminders}
    text = render_notice(reminders[0].kind, reminders[0].params, "en").text
    assert "Reminder" in text and setup.whistle.question in text
    assert "2026-03-05 09:00" in text  # the deadline in local time
    # a minute later, and after a restart: nothing more
    assert await sweep_whistles(engine, now=REMIND + timedelta(minutes=1), tz=TZ) == Swept()

    swept = await sweep_whistles(engine, now=DEADLINE, tz=TZ)
    assert (swept.closed, swept.results, swept.reminded) == (1, 6, 0)  # text + chart, 3 chats
    results = await _rows(engine, "whistle_results")
    charts = await _rows(engine, "whistle_chart")
    wanted = [setup.secretary.external_id, *(g.external_id for g in setup.groups)]
    assert [int(r.address) for r in results] == [int(r.address) for r in charts] == wanted
    assert await sweep_whistles(engine, now=DEADLINE + timedelta(minutes=1), tz=TZ) == Swept()
    async with session_scope(engine) as s:
        closed = await s.get(Whistle, setup.whistle.id)
    assert closed is not None and (closed.status, closed.closed_at) == ("closed", DEADLINE)

    words = render_notice("whistle_results", results[0].params, "en").text
    assert words.startswith(f"Results of whistle #{setup.whistle.id}")
    assert "· agree: 1" in words and "· disagree: 1" in words and "· other: 0" in words
    assert "Responses: 3 of 6 reached (50%)" in words
    assert "· 3: 2/2 (100%)" in words and "· 5: 1/3 (33%)" in words
    assert "· unknown building: 0/1 (0%)" in words
    assert "×1 “充电桩装在地下车库”" in words
    for person in setup.people:  # never a name, in any language
        assert person.name not in words and person.name not in str(results[0].params)
    chinese = render_notice("whistle_results", results[0].params, "zh").text
    assert "充电桩装在地下车库" in chinese
    chart = render_notice("whistle_chart", charts[0].params, "zh")
    assert chart.image is not None and chart.image.startswith(b"\x89PNG")
    assert len(chart.text) <= 200


async def test_results_go_only_to_the_secretary_unless_groups_were_chosen(
    engine: AsyncEngine,
) -> None:
    setup = await _office(engine, to_groups=False)
    swept = await sweep_whistles(engine, now=DEADLINE + timedelta(days=2), tz=TZ)
    assert (swept.closed, swept.reminded) == (1, 0)  # past the deadline: no late reminder
    assert {int(r.address) for r in await _rows(engine, "whistle_results")} == {
        setup.secretary.external_id
    }
    assert await _rows(engine, "whistle_reminder") == []


async def test_a_cancelled_whistle_is_neither_reminded_nor_closed(engine: AsyncEngine) -> None:
    setup = await _office(engine)
    async with session_scope(engine) as s:
        setup.whistle.status = "cancelled"
        s.add(setup.whistle)
    assert await sweep_whistles(engine, now=REMIND, tz=TZ) == Swept()
    assert await sweep_whistles(engine, now=DEADLINE, tz=TZ) == Swept()


async def test_two_instances_sweeping_at_once_remind_and_close_once(
    engine: AsyncEngine, database_url: str
) -> None:
    await _office(engine)
    second = create_engine(database_url)
    try:
        for now in (REMIND, DEADLINE):
            await asyncio.gather(
                sweep_whistles(engine, now=now, tz=TZ),
                sweep_whistles(second, now=now, tz=TZ),
            )
    finally:
        await second.dispose()
    assert len(await _rows(engine, "whistle_reminder")) == 3
    assert len(await _rows(engine, "whistle_results")) == 3


async def test_the_job_reads_the_clock_and_runs_every_minute(engine: AsyncEngine) -> None:
    setup = await _office(engine)
    settings = load_settings(telegram_token="123:abc")
    woken: list[bool] = []
    context = JobContext(engine=engine, settings=settings, wake=lambda: woken.append(True))
    with patch("scheduler.whistles.utcnow", return_value=DEADLINE):
        await whistle_sweep(context)
        await whistle_sweep(context)
    assert woken == [True]
    assert len(await _rows(engine, "whistle_results")) == 3
    assert setup.whistle.id is not None

    scheduler = runtime(build_application(settings, engine).bot_data).scheduler
    assert scheduler is not None
    assert scheduler.job("whistle-sweep").trigger.interval == timedelta(minutes=1)
