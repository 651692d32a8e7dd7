"""The meeting calendar, the agenda (compiled, edited, approved) and the in-chat run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.config import SettingsError, load_settings
from storage import people
from storage.db import session_scope
from storage.deliberation import meeting_audience, meeting_run, meetings, proposals
from storage.deliberation.decisions import Owner, record_decision
from storage.deliberation.meeting_calendar import MeetingPlan
from storage.deliberation.meeting_models import Proposal
from storage.deliberation.meeting_steps import perform_step, post_agenda
from storage.errors import InvalidInput, NotAllowed, StaleAction
from storage.models import OutboxMessage
from storage.people.roles import Authority, Role, grant
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")
PLAN = MeetingPlan.parse("last-sat", "19:30", "", TZ)
NOW = datetime(2026, 12, 23, 12, 0, tzinfo=UTC)


def secretary(resident_id: int) -> Authority:
    return Authority(resident_id, frozenset({Role.RESIDENT, Role.SECRETARY}))


def plain(resident_id: int) -> Authority:
    return Authority(resident_id, frozenset({Role.RESIDENT}))


def test_default_day_is_the_last_saturday_at_half_past_seven() -> None:
    assert PLAN.starts_at("2026-12") == datetime(2026, 12, 26, 19, 30, tzinfo=TZ)
    assert PLAN.starts_at("2027-01") == datetime(2027, 1, 30, 19, 30, tzinfo=TZ)
    offsets = {s.name: (s.at - PLAN.starts_at("2026-12")).days for s in PLAN.steps("2026-12")}
    assert offsets == {
        "topics": -10,
        "draft": -3,
        "agenda": -2,
        "reminder": -1,
        "meeting": 0,
        "minutes": 1,
    }


def test_other_days_and_offsets_and_bad_settings() -> None:
    plan = MeetingPlan.parse("2-wed", "09:00", "topics=-7,minutes=2", TZ)
    assert plan.starts_at("2026-12") == datetime(2026, 12, 9, 9, 0, tzinfo=TZ)
    assert plan.step_at("2026-12", "topics") == datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
    assert MeetingPlan.parse("15", "19:30", "", TZ).meeting_date("2027-02").day == 15
    settings = load_settings(meeting_day="1-mon", meeting_time="08:15")
    assert settings.meeting_plan.starts_at("2026-12") == datetime(2026, 12, 7, 8, 15, tzinfo=TZ)
    for field, value in (
        ("meeting_day", "last-someday"),
        ("meeting_time", "25:00"),
        ("meeting_steps", "draft=-1,agenda=-2"),
        ("meeting_steps", "party=-1"),
    ):
        with pytest.raises(SettingsError, match=f"YISHI_{field.upper()}"):
            load_settings(**{field: value})


def test_due_steps_windows_span_month_boundaries() -> None:
    plan = MeetingPlan.parse("1", "19:30", "", TZ)  # the 1st: topics fall in the month before
    due = plan.due_steps(datetime(2026, 12, 23, 12, 0, tzinfo=TZ))
    assert [(s.period, s.name) for s in due] == [("2027-01", "topics")]
    assert PLAN.due_steps(datetime(2026, 12, 27, 20, 0, tzinfo=TZ))[0].name == "minutes"
    assert PLAN.current_period(datetime(2026, 12, 27, 20, 0, tzinfo=TZ)) == "2027-01"
    assert PLAN.current_period(datetime(2026, 12, 26, 21, 0, tzinfo=TZ)) == "2026-12"


async def _proposal(session, who, text: str, now: datetime) -> Proposal:
    started = await proposals.start_proposal(session, proposer=who, text=text, now=now)
    return started.proposal


async def test_compile_puts_unfinished_business_first_then_hot_issues(engine: AsyncEngine):
    async with session_scope(engine) as s:
        wang, li, sec = [await resident(s, i) for i in (1001, 1002, 1003)]
        november = await meetings.meeting_for(s, period="2026-11", plan=PLAN)
        await meetings.add_topic(s, meeting=november, auth=secretary(sec.id), title="楼道堆物")
        (item,) = await meetings.agenda(s, meeting=november)
        await record_decision(
            s, item=item, text="清理楼道堆物", owner=Owner(unit_id=1),
            due_at=NOW + timedelta(days=30), auth=secretary(sec.id), now=NOW - timedelta(days=25),
            tz=TZ,
        )  # fmt: skip
        lift = await _proposal(s, wang, "小区电梯老化，申请加装智能电梯", NOW - timedelta(days=5))
        await proposals.support(s, resident=li, subject="proposal", subject_id=lift.id, now=NOW)
        december = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        assert await meetings.compile_agenda(s, meeting=december, now=NOW)
        items = await meetings.agenda(s, meeting=december)
        assert [(i.kind, i.title) for i in items] == [
            ("unfinished", "清理楼道堆物"),
            ("proposal", "小区电梯老化，申请加装智能电梯"),
        ]
        assert items[0].decision_id == 1
        # compiling again adds nothing twice; the people behind the proposal are its backers
        assert not await meetings.compile_agenda(s, meeting=december, now=NOW)
        assert len(await meetings.agenda(s, meeting=december)) == 2
        assert await meeting_audience.item_people(s, item=items[1]) == sorted([wang.id, li.id])


async def test_only_secretaries_edit_or_approve_and_edits_apply(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, sec = await resident(s, 1001), await resident(s, 1003)
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        boss = secretary(sec.id)
        for title in ("一", "二", "三"):
            await meetings.add_topic(s, meeting=meeting, auth=boss, title=title)
        for attempt in (
            meetings.add_topic(s, meeting=meeting, auth=plain(wang.id), title="四"),
            meetings.drop_item(s, meeting=meeting, auth=plain(wang.id), number=1),
            meetings.move_item(s, meeting=meeting, auth=plain(wang.id), number=1, to=2),
            meetings.approve(s, meeting=meeting, auth=plain(wang.id), now=NOW),
        ):
            with pytest.raises(NotAllowed):
                await attempt
        await meetings.move_item(s, meeting=meeting, auth=boss, number=3, to=1)
        await meetings.drop_item(s, meeting=meeting, auth=boss, number=2)
        assert [i.title for i in await meetings.agenda(s, meeting=meeting)] == ["三", "二"]
        with pytest.raises(InvalidInput):
            await meetings.drop_item(s, meeting=meeting, auth=boss, number=5)
        assert await meetings.approve(s, meeting=meeting, auth=boss, now=NOW)
        assert not await meetings.approve(s, meeting=meeting, auth=boss, now=NOW)
        assert (meeting.status, meeting.approved_by_id) == ("agenda_approved", sec.id)


async def test_one_vote_per_resident_and_item_changeable_on_the_floor_only(engine: AsyncEngine):
    async with session_scope(engine) as s:
        wang, li, sec = await resident(s, 1001), await resident(s, 1002), await resident(s, 1003)
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        boss = secretary(sec.id)
        await meetings.add_topic(s, meeting=meeting, auth=boss, title="一")
        await meetings.add_topic(s, meeting=meeting, auth=boss, title="二")
        with pytest.raises(NotAllowed):
            await meeting_run.start_run(s, meeting=meeting, auth=plain(wang.id), now=NOW)
        first = await meeting_run.start_run(s, meeting=meeting, auth=boss, now=NOW)
        assert first is not None and first.id is not None
        voted = await meeting_run.cast_vote(s, item_id=first.id, resident=wang, choice="f", now=NOW)
        assert (voted.counts, voted.changed) == ({"for": 1, "against": 0, "abstain": 0}, False)
        # a change of mind while the item is on the floor: the latest vote counts, once
        voted = await meeting_run.cast_vote(s, item_id=first.id, resident=wang, choice="a", now=NOW)
        assert (voted.counts, voted.changed) == ({"for": 0, "against": 1, "abstain": 0}, True)
        with pytest.raises(StaleAction):
            await meeting_run.cast_vote(s, item_id=first.id, resident=li, choice="x", now=NOW)
        second = await meeting_run.advance(s, meeting=meeting, auth=boss, item_id=first.id)
        assert second is not None and second.title == "二"
        with pytest.raises(StaleAction):  # the first item has left the floor
            await meeting_run.cast_vote(s, item_id=first.id, resident=li, choice="f", now=NOW)
        assert await meeting_run.tally(s, item_id=first.id) == {
            "for": 0,
            "against": 1,
            "abstain": 0,
        }
        # ending leaves the undecided items deferred
        assert await meeting_run.end_meeting(s, meeting=meeting, now=NOW, auth=boss) == 2
        items = await meetings.agenda(s, meeting=meeting)
        assert {i.outcome for i in items} == {"deferred"} and meeting.status == "held"


async def test_a_deferred_proposal_counts_and_a_decided_one_leaves_the_pool(engine: AsyncEngine):
    async with session_scope(engine) as s:
        wang, sec = await resident(s, 1001), await resident(s, 1003)
        lift = await _proposal(s, wang, "加装智能电梯", NOW)
        gate = await _proposal(s, wang, "东门门禁维修，外来人员随意进出", NOW)
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        await meetings.compile_agenda(s, meeting=meeting, now=NOW)
        items = {i.proposal_id: i for i in await meetings.agenda(s, meeting=meeting)}
        await meeting_run.settle_item(s, item=items[lift.id], outcome="deferred")
        await record_decision(
            s, item=items[gate.id], text="维修门禁", owner=Owner(unit_id=1),
            due_at=NOW + timedelta(days=10), auth=secretary(sec.id), now=NOW, tz=TZ,
        )  # fmt: skip
        assert (lift.deferred, lift.status, gate.status) == (1, "open", "decided")


async def test_an_unapproved_agenda_waits_and_goes_out_once_approved(engine: AsyncEngine):
    """At T-2 an unapproved draft is not posted: the secretaries are asked again, once; the
    approval then posts it at once, and the T-2 step run again posts nothing more."""
    async with session_scope(engine) as s:
        sec = await resident(s, 1003)
        await grant(s, resident=sec, role=Role.SECRETARY)
        group = await people.touch_group(s, channel="telegram", external_id=-100, title="群")
        group.registered_at = NOW
        s.add(group)
    agenda_step = next(x for x in PLAN.steps("2026-12") if x.name == "agenda")
    for _ in range(2):
        async with session_scope(engine) as s:
            await perform_step(s, agenda_step, plan=PLAN, now=agenda_step.at)
    async with session_scope(engine) as s:
        assert await _kinds(s) == [("meeting_draft", 1003)]
        meeting = await meetings.meeting_for(s, period="2026-12", plan=PLAN)
        assert meeting.status == "agenda_draft"
        await meetings.add_topic(s, meeting=meeting, auth=secretary(sec.id), title="路灯")
        await meetings.approve(s, meeting=meeting, auth=secretary(sec.id), now=agenda_step.at)
        assert await post_agenda(s, meeting, PLAN) == 1
        await perform_step(s, agenda_step, plan=PLAN, now=agenda_step.at)
        assert await _kinds(s) == [("meeting_draft", 1003), ("meeting_agenda", -100)]


async def _kinds(session) -> list[tuple[str, int]]:
    query = select(OutboxMessage.kind, OutboxMessage.address).order_by(col(OutboxMessage.id))
    return [(k, int(c)) for k, c in (await session.exec(query)).all()]
