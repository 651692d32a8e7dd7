"""Decisions tracked like cases: owner, due date, notes, done, the sweep, carried forward."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from storage.cases import routing
from storage.db import session_scope
from storage.deliberation import decisions, meetings, proposals
from storage.deliberation.decisions import Owner
from storage.deliberation.meeting_calendar import MeetingPlan
from storage.deliberation.meeting_models import Support
from storage.errors import InvalidInput, NotAllowed, StaleAction
from storage.models import Case, OutboxMessage
from storage.people.roles import Authority, Role, grant
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")
PLAN = MeetingPlan.parse("last-sat", "19:30", "", TZ)
NOW = datetime(2026, 12, 26, 12, 0, tzinfo=UTC)


def secretary(resident_id: int) -> Authority:
    return Authority(resident_id, frozenset({Role.RESIDENT, Role.SECRETARY}))


def plain(resident_id: int) -> Authority:
    return Authority(resident_id, frozenset({Role.RESIDENT}))


async def _kinds(session) -> list[tuple[str, int]]:
    query = select(OutboxMessage.kind, OutboxMessage.address).order_by(col(OutboxMessage.id))
    return [(k, int(c)) for k, c in (await session.exec(query)).all()]


def test_due_dates_are_local_days_within_a_year() -> None:
    today = date(2026, 12, 26)
    assert decisions.due_from("2027-01-15", today=today, tz=TZ) == datetime(
        2027, 1, 15, 23, 59, tzinfo=TZ
    )
    assert decisions.due_from("30", today=today, tz=TZ).date() == date(2027, 1, 25)
    for bad in ("yesterday", "2025-01-01", "400", "2027-02-30"):
        with pytest.raises(InvalidInput):
            decisions.due_from(bad, today=today, tz=TZ)


async def test_record_needs_a_secretary_an_owner_and_one_per_item(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, sec = await resident(s, 1001), await resident(s, 1003)
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        item = await meetings.add_topic(s, meeting=meeting, auth=secretary(sec.id), title="门禁")
        due = NOW + timedelta(days=20)
        with pytest.raises(NotAllowed):
            await decisions.record_decision(
                s, item=item, text="修门禁", owner=Owner(unit_id=1), due_at=due,
                auth=plain(wang.id), now=NOW, tz=TZ,
            )  # fmt: skip
        with pytest.raises(InvalidInput):
            await decisions.find_owner(s, "nobody-unit")
        owner = await decisions.find_owner(s, "property")
        assert owner.unit_id is not None
        decision = await decisions.record_decision(
            s, item=item, text="修门禁", owner=owner, due_at=due, auth=secretary(sec.id), now=NOW,
            tz=TZ,
        )  # fmt: skip
        assert (decision.status, item.outcome) == ("open", "decided")
        with pytest.raises(StaleAction):
            await decisions.record_decision(
                s, item=item, text="再修", owner=owner, due_at=due, auth=secretary(sec.id),
                now=NOW, tz=TZ,
            )  # fmt: skip


async def test_notes_and_done_by_owner_or_secretary_tell_raisers_and_supporters(
    engine: AsyncEngine,
) -> None:
    async with session_scope(engine) as s:
        wang, li, zhao, sec, staff = (
            await resident(s, 1001), await resident(s, 1002), await resident(s, 1004),
            await resident(s, 1003), await resident(s, 1005),
        )  # fmt: skip
        property_unit = await routing.unit_by_code(s, "property")
        await grant(s, resident=staff, role=Role.STAFF, unit_id=property_unit.id)
        # Zhao's anonymous case, proposed by Zhao; Li supports the proposal, Wang the case
        case = Case(
            reporter_id=zhao.id, category_id=1, text="东门门禁坏了", anonymous=True,
            source_chat_id=1004, source_message_id=1,
        )  # fmt: skip
        s.add(case)
        await s.flush()
        started = await proposals.start_proposal(
            s, proposer=zhao, text=None, now=NOW, case_id=case.id
        )
        gate = started.proposal
        s.add(Support(subject="proposal", subject_id=gate.id, resident_id=li.id, at=NOW))
        s.add(Support(subject="case", subject_id=case.id, resident_id=wang.id, at=NOW))
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        await meetings.compile_agenda(s, meeting=meeting, now=NOW)
        item = next(i for i in await meetings.agenda(s, meeting=meeting) if i.case_ids)
        decision = await decisions.record_decision(
            s, item=item, text="更换东门门禁", owner=Owner(unit_id=property_unit.id),
            due_at=NOW + timedelta(days=10), auth=secretary(sec.id), now=NOW, tz=TZ,
        )  # fmt: skip
        staff_auth = Authority(staff.id, frozenset({Role.STAFF}), frozenset({property_unit.id}))
        with pytest.raises(NotAllowed):
            await decisions.add_note(s, decision=decision, auth=plain(wang.id), note="x", now=NOW)
        await decisions.add_note(s, decision=decision, auth=staff_auth, note="已订货", now=NOW)
        assert [n.note for n in await decisions.notes(s, decision=decision)] == ["已订货"]
        with pytest.raises(NotAllowed):
            await decisions.mark_done(s, decision=decision, auth=plain(li.id), now=NOW, tz=TZ)
        told = await decisions.mark_done(s, decision=decision, auth=staff_auth, now=NOW, tz=TZ)
        assert told == 3
        done = await _kinds(s)
        assert sorted(c for k, c in done if k == "decision_done") == [1001, 1002, 1004]
        rows = (await s.exec(select(OutboxMessage))).all()
        assert all("Resident" not in str(r.params) for r in rows)  # nobody is named
        with pytest.raises(StaleAction):
            await decisions.mark_done(s, decision=decision, auth=staff_auth, now=NOW, tz=TZ)


async def test_sweep_reminds_the_owner_then_escalates_once(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        sec, owner = await resident(s, 1003), await resident(s, 1006)
        await grant(s, resident=sec, role=Role.SECRETARY)
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        item = await meetings.add_topic(s, meeting=meeting, auth=secretary(sec.id), title="路灯")
        await decisions.record_decision(
            s, item=item, text="修路灯", owner=Owner(resident_id=owner.id),
            due_at=NOW + timedelta(days=10), auth=secretary(sec.id), now=NOW, tz=TZ,
        )  # fmt: skip
        assert await decisions.sweep_decisions(s, now=NOW + timedelta(days=7), tz=TZ) == (0, 0, 0)
        assert await decisions.sweep_decisions(s, now=NOW + timedelta(days=8), tz=TZ) == (1, 0, 1)
        assert await decisions.sweep_decisions(s, now=NOW + timedelta(days=9), tz=TZ) == (0, 0, 0)
        assert await decisions.sweep_decisions(s, now=NOW + timedelta(days=11), tz=TZ) == (0, 1, 1)
        assert await decisions.sweep_decisions(s, now=NOW + timedelta(days=12), tz=TZ) == (0, 0, 0)
        assert await _kinds(s) == [("decision_soon", 1006), ("decision_late", 1003)]


async def test_an_open_decision_is_carried_forward_until_done(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        sec = await resident(s, 1003)
        boss = secretary(sec.id)
        december = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        item = await meetings.add_topic(s, meeting=december, auth=boss, title="路灯")
        decision = await decisions.record_decision(
            s, item=item, text="修路灯", owner=Owner(unit_id=1),
            due_at=NOW + timedelta(days=60), auth=boss, now=NOW, tz=TZ,
        )  # fmt: skip
        january = await meetings.meeting_for(s, period="2027-01", plan=PLAN)
        await meetings.compile_agenda(s, meeting=january, now=NOW + timedelta(days=30))
        carried = await meetings.agenda(s, meeting=january)
        assert [(i.kind, i.decision_id) for i in carried] == [("unfinished", decision.id)]
        # a new decision on the unfinished item replaces the old one
        await decisions.record_decision(
            s, item=carried[0], text="改装太阳能路灯", owner=Owner(unit_id=1),
            due_at=NOW + timedelta(days=90), auth=boss, now=NOW + timedelta(days=35), tz=TZ,
        )  # fmt: skip
        assert decision.status == "replaced"
        february = await meetings.meeting_for(s, period="2027-02", plan=PLAN)
        await meetings.compile_agenda(s, meeting=february, now=NOW + timedelta(days=60))
        assert [i.title for i in await meetings.agenda(s, meeting=february)] == ["改装太阳能路灯"]
