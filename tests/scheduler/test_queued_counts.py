"""Issue 15, defect 12b: the scheduled jobs count and log the notices they queued, not the ones
they tried. A notice whose dedup key was queued before is not queued again, and a step with
nobody to tell queues nothing; neither may be reported as queued."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.config import load_settings
from scheduler.core import JobContext
from scheduler.deadlines import sweep_deadlines
from scheduler.digests import queue_digests
from scheduler.meeting_cycle import run_meeting_cycle
from scheduler.monthly_report import queue_monthly_report
from scheduler.whistles import sweep_whistles
from storage import outbox, people
from storage.db import session_scope
from storage.deliberation import decisions, meetings
from storage.deliberation.meeting_calendar import MeetingPlan
from storage.models import Group, OutboxMessage, Resident
from storage.people.roles import Role, grant
from tests.storage.cases.test_workflow import _file
from tests.storage.deliberation.test_meetings import secretary
from tests.storage.factories import resident
from tests.storage.whistle.test_results import DEADLINE, blow

TZ = ZoneInfo("Asia/Shanghai")
PLAN = MeetingPlan.parse("last-sat", "19:30", "", TZ)
SETTINGS = SimpleNamespace(meeting_plan=PLAN, default_language="zh")


async def rows(engine: AsyncEngine, kind: str) -> list[OutboxMessage]:
    async with session_scope(engine) as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list((await s.exec(query.order_by(col(OutboxMessage.id)))).all())


async def queued_before(engine: AsyncEngine, to: Resident | Group, dedup_key: str) -> None:
    """A row under the key the job will use, as if queued by an earlier run."""
    async with session_scope(engine) as s:
        await outbox.enqueue(s, to=to, kind="text", params={"text": "-"}, dedup_key=dedup_key)


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("scheduler")]


async def test_the_draft_goes_to_the_secretaries_again_when_unapproved_at_t_minus_2(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """The T-2 reminder of the draft was deduplicated against the draft itself: counted and
    logged as one notice, but never queued."""
    async with session_scope(engine) as s:
        sec = await resident(s, 1003)
        await grant(s, resident=sec, role=Role.SECRETARY)
        group = await people.touch_group(s, channel="telegram", external_id=-100, title="群")
        group.registered_at = datetime(2026, 12, 1, tzinfo=UTC)
        s.add(group)
    steps = {step.name: step for step in PLAN.steps("2026-12")}
    caplog.set_level(logging.INFO)
    assert await run_meeting_cycle(engine, now=steps["draft"].at, settings=SETTINGS) == 1  # type: ignore[arg-type]
    assert await run_meeting_cycle(engine, now=steps["agenda"].at, settings=SETTINGS) == 1  # type: ignore[arg-type]
    drafts = await rows(engine, "meeting_draft")
    assert [(int(r.address), r.params["again"]) for r in drafts] == [(1003, False), (1003, True)]
    assert logged(caplog) == [
        "meeting 2026-12 step draft: 1 notices",
        "meeting 2026-12 step agenda: 1 notices",
    ]


async def test_a_decision_whose_unit_has_nobody_is_no_notice(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        sec = await resident(s, 1003)
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        item = await meetings.add_topic(s, meeting=meeting, auth=secretary(sec.id), title="路灯")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        await decisions.record_decision(
            s, item=item, text="修路灯", owner=decisions.Owner(unit_id=1),
            due_at=now + timedelta(days=10), auth=secretary(sec.id), now=now, tz=TZ,
        )  # fmt: skip
    later = datetime(2026, 12, 9, tzinfo=UTC)  # 80% of the time: remind the owner, nobody
    assert await run_meeting_cycle(engine, now=later, settings=SETTINGS) == 0  # type: ignore[arg-type]
    assert await rows(engine, "decision_soon") == []


async def test_the_monthly_report_counts_only_new_rows(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with session_scope(engine) as s:
        zhao, alice = await resident(s, 1003), await resident(s, 1004, lang="en")
        for person in (zhao, alice):
            await grant(s, resident=person, role=Role.SECRETARY)
    await queued_before(engine, zhao, f"monthly_report:2025-11:{zhao.id}")
    caplog.set_level(logging.INFO)
    now = datetime(2025, 12, 1, 8, tzinfo=TZ)
    assert await queue_monthly_report(engine, now=now, tz=TZ) == 1
    assert [int(r.address) for r in await rows(engine, "monthly_report")] == [1004]
    assert logged(caplog) == ["monthly report for 2025-11 queued for 1 of 2 secretaries"]


async def test_digests_count_only_new_rows(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with session_scope(engine) as s:
        groups = []
        for chat in (-100, -200):
            group = await people.touch_group(s, channel="telegram", external_id=chat, title="群")
            group.registered_at = datetime(2026, 1, 1, tzinfo=UTC)
            s.add(group)
            groups.append(group)
    await queued_before(engine, groups[0], f"digest:monthly:2026-11:{groups[0].id}")
    caplog.set_level(logging.INFO)
    now = datetime(2026, 12, 1, 9, tzinfo=TZ)
    assert await queue_digests(engine, cadence="monthly", now=now, tz=TZ) == 1
    assert [int(r.address) for r in await rows(engine, "digest")] == [-200]
    assert logged(caplog) == ["monthly digest for 2026-11 queued for 1 of 2 groups"]


async def test_the_whistle_sweep_counts_only_new_rows(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with session_scope(engine) as s:
        setup = await blow(s, buildings=["3", "3", "5"], groups=1)
        setup.whistle.results_to_groups = True
        s.add(setup.whistle)
    number, first = setup.whistle.id, setup.people[0]
    await queued_before(engine, first, f"whistle_reminder:{number}:{first.external_id}")
    await queued_before(engine, setup.secretary, f"whistle_results:{number}:{setup.secretary.id}")
    caplog.set_level(logging.INFO)
    reminded = await sweep_whistles(engine, now=DEADLINE - timedelta(hours=24), tz=TZ)
    closed = await sweep_whistles(engine, now=DEADLINE, tz=TZ)
    assert (reminded.reminders, closed.results) == (2, 3)  # of 3 reminders; 2 texts, 2 charts
    assert len(await rows(engine, "whistle_reminder")) == 2
    assert logged(caplog) == [
        f"whistle {number}: reminder queued for 2 of 3 subscriber(s)",
        f"whistle {number} closed; results queued: 3 notice(s) for 2 chat(s)",
    ]


async def test_the_deadline_sweep_says_how_many_notices_it_queued(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A case of a unit nobody works in yet: reminded, but nobody to tell."""
    async with session_scope(engine) as s:
        case = await _file(s, await resident(s, 1001))
    assert case.due_at is not None
    context = JobContext(engine=engine, settings=load_settings(telegram_token="123:abc"))
    caplog.set_level(logging.INFO)
    with patch("scheduler.deadlines.utcnow", return_value=case.due_at - timedelta(hours=9)):
        await sweep_deadlines(context)
    assert logged(caplog) == ["deadline sweep: 1 reminded, 0 escalated, 0 closed; 0 notices"]
