from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage.cases import Status, deadlines, feedback, workflow
from storage.db import session_scope
from storage.figures.stats import figures
from storage.models import OutboxMessage
from storage.periods import parse_period
from tests.storage.cases.test_workflow import TODAY, _auth, _file, _setup


async def _kinds(s):
    return [(r.kind, int(r.address)) for r in (await s.exec(select(OutboxMessage))).all()]


async def test_remind_at_80_percent_then_escalate_then_nothing_twice(engine: AsyncEngine):
    async with session_scope(engine) as s:
        p = await _setup(s)
        case = await _file(s, p["wang"])  # safety: 48 hours
        filed = case.created_at
        before = len(await _kinds(s))

        early = await deadlines.sweep(s, now=filed + timedelta(hours=38), local_today=TODAY)
        assert (early.reminded, early.escalated) == (0, 0)
        due_soon = await deadlines.sweep(s, now=filed + timedelta(hours=39), local_today=TODAY)
        again = await deadlines.sweep(s, now=filed + timedelta(hours=40), local_today=TODAY)
        assert (due_soon.reminded, again.reminded) == (1, 0)
        late = await deadlines.sweep(s, now=filed + timedelta(hours=49), local_today=TODAY)
        late_again = await deadlines.sweep(s, now=filed + timedelta(hours=60), local_today=TODAY)
        assert (late.escalated, late_again.escalated) == (1, 0)
        assert [c.id for c in await deadlines.overdue(s, now=filed + timedelta(hours=49))] == [
            case.id
        ]
        kinds = (await _kinds(s))[before:]
    assert kinds == [
        ("due_soon", p["staff"].external_id),
        ("overdue", p["secretary"].external_id),
    ]


async def test_waiting_on_the_resident_is_not_late_and_closes_after_7_days(engine: AsyncEngine):
    async with session_scope(engine) as s:
        p = await _setup(s)
        case = await _file(s, p["wang"])
        staff = await _auth(s, p["staff"])
        await workflow.resolve(s, case=case, actor=p["staff"], auth=staff, note="已处理")
        resolved = case.resolved_at
        later = await deadlines.sweep(s, now=resolved + timedelta(days=3), local_today=TODAY)
        assert (later.escalated, later.closed) == (0, 0)
        assert await deadlines.overdue(s, now=resolved + timedelta(days=3)) == []
        week = await deadlines.sweep(s, now=resolved + timedelta(days=7), local_today=TODAY)
        assert week.closed == 1 and case.status == Status.CLOSED


async def test_completion_rate_counts_only_resolved_and_closed(engine: AsyncEngine):
    async with session_scope(engine) as s:
        p = await _setup(s)
        staff, secretary = await _auth(s, p["staff"]), await _auth(s, p["secretary"])
        cases = [await _file(s, p["wang"], message_id=n) for n in range(6)]
        await workflow.resolve(s, case=cases[0], actor=p["staff"], auth=staff, note="ok")
        await workflow.resolve(s, case=cases[1], actor=p["staff"], auth=staff, note="ok")
        await feedback.confirm_fixed(s, case=cases[1], resident=p["wang"])
        await workflow.resolve(s, case=cases[2], actor=p["staff"], auth=staff, note="ok")
        await feedback.reopen(s, case=cases[2], resident=p["wang"], reason="没修好", today=TODAY)
        await workflow.reject(s, case=cases[3], actor=p["secretary"], auth=secretary, reason="x")
        await workflow.mark_duplicate(
            s, case=cases[4], original=cases[0], actor=p["secretary"], auth=secretary
        )
        today = datetime.now(UTC).date()
        days = f"{today - timedelta(days=1)}..{today + timedelta(days=1)}"
        period = parse_period(days, tz=ZoneInfo("Asia/Shanghai"), today=today)
        demand = (await figures(s, period=period, now=datetime.now(UTC))).demand
    # accepted: 0, 1, 2, 5 (3 rejected, 4 duplicate); handled: 0 (resolved), 1 (closed)
    assert (demand.accepted, demand.handled) == (4, 2)
    assert demand.completion_rate == 0.5
