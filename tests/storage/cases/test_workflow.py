"""The case workflow in storage: routing, actions, roles, notices queued in the outbox."""

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage.cases import Status, assignment, categories, feedback, open_case, routing, workflow
from storage.db import session_scope
from storage.errors import InvalidTransition, NotAllowed
from storage.models import CaseEvent, DutySlot, OutboxMessage
from storage.people.roles import Role, authority, grant
from tests.storage.factories import photo, photo_refs, resident

TODAY = date(2026, 11, 28)


async def _setup(s):
    people = {
        name: await resident(s, n)
        for n, name in enumerate(
            ["wang", "staff", "other_staff", "secretary", "mediator1", "mediator2", "mediator3"], 1
        )
    }
    safety = await routing.unit_by_code(s, "safety")
    property_ = await routing.unit_by_code(s, "property")
    mediation = await routing.unit_by_code(s, "mediation")
    await grant(s, resident=people["staff"], role=Role.STAFF, unit_id=safety.id)
    await grant(s, resident=people["other_staff"], role=Role.STAFF, unit_id=property_.id)
    await grant(s, resident=people["secretary"], role=Role.SECRETARY)
    for name in ("mediator1", "mediator2", "mediator3"):
        await grant(s, resident=people[name], role=Role.MEDIATOR, unit_id=mediation.id)
    return people


async def _auth(s, person):
    return await authority(s, resident=person, admin_ids=frozenset())


async def _file(s, reporter, code="safety", message_id=1, anonymous=False):
    category = await categories.category_by_code(s, code)
    case, _ = await open_case(
        s,
        reporter=reporter,
        category=category,
        text="楼道堆放杂物，电话13812345678",
        source="private",
        source_chat_id=reporter.external_id,
        source_message_id=message_id,
        anonymous=anonymous,
        today=TODAY,
    )
    return case


async def _outbox(s):
    return list((await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_new_case_is_routed_and_its_unit_told(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        p = await _setup(s)
        case = await _file(s, p["wang"], anonymous=True)
        assert case.unit_id == (await routing.unit_by_code(s, "safety")).id
        assert case.due_at - case.created_at == timedelta(hours=48)
        rows = await _outbox(s)
    assert [(r.kind, int(r.address)) for r in rows] == [("assigned", p["staff"].external_id)]
    assert rows[0].params["reporter"] is None  # anonymous: staff never see the name
    assert "13812345678" not in str(rows[0].params)


async def test_unrouted_category_waits_in_the_triage_queue(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        p = await _setup(s)
        case = await _file(s, p["wang"], code="other")
        assert [c.id for c in await assignment.triage_queue(s)] == [case.id]
        assert await _outbox(s) == []


async def test_full_life_with_reporter_told_each_public_step(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        p = await _setup(s)
        case = await _file(s, p["wang"])
        staff = await _auth(s, p["staff"])
        await workflow.accept(s, case=case, actor=p["staff"], auth=staff)
        await workflow.add_progress(s, case=case, actor=p["staff"], auth=staff, note="已联系物业")
        await workflow.internal_note(s, case=case, actor=p["staff"], auth=staff, note="业主难沟通")
        await workflow.resolve(
            s, case=case, actor=p["staff"], auth=staff, note="已清理", photo=await photo(s, "ph")
        )
        await feedback.confirm_fixed(s, case=case, resident=p["wang"])
        await feedback.rate(s, case=case, resident=p["wang"], stars=5)
        assert (case.status, case.satisfaction, await photo_refs(s, case.photos)) == (
            Status.CLOSED,
            5,
            ["ph"],
        )
        updates = [r for r in await _outbox(s) if r.kind == "case_update"]
        events = (await s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))).all()
    assert [u.params["status"] for u in updates] == ["accepted", "in_progress", "resolved"]
    assert all(int(u.address) == p["wang"].external_id for u in updates)
    assert "业主难沟通" not in str([u.params for u in updates])  # internal stays internal
    assert [(e.kind, e.public) for e in events if e.kind in ("note", "rated")] == [
        ("note", False),
        ("rated", True),
    ]


async def test_who_may_act(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        p = await _setup(s)
        case = await _file(s, p["wang"])
        for person in ("wang", "other_staff", "mediator1"):
            with pytest.raises(NotAllowed):
                await workflow.accept(s, case=case, actor=p[person], auth=await _auth(s, p[person]))
        with pytest.raises(NotAllowed):
            await workflow.reject(
                s, case=case, actor=p["staff"], auth=await _auth(s, p["staff"]), reason="x"
            )
        with pytest.raises(NotAllowed):
            await feedback.confirm_fixed(s, case=case, resident=p["staff"])
        secretary = await _auth(s, p["secretary"])
        await workflow.accept(s, case=case, actor=p["secretary"], auth=secretary)
        with pytest.raises(InvalidTransition):
            await workflow.accept(s, case=case, actor=p["secretary"], auth=secretary)


async def test_reopen_reject_duplicate_and_not_ours(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        p = await _setup(s)
        staff, secretary = await _auth(s, p["staff"]), await _auth(s, p["secretary"])
        first = await _file(s, p["wang"], message_id=1)
        await workflow.resolve(s, case=first, actor=p["staff"], auth=staff, note="修好了")
        await feedback.reopen(s, case=first, resident=p["wang"], reason="还是坏的", today=TODAY)
        assert first.status == Status.REOPENED and first.resolved_at is None

        second = await _file(s, p["wang"], message_id=2)
        await workflow.mark_duplicate(
            s, case=second, original=first, actor=p["secretary"], auth=secretary
        )
        third = await _file(s, p["wang"], message_id=3)
        await workflow.reject(
            s,
            case=third,
            actor=p["secretary"],
            auth=secretary,
            reason="不属于本社区",
            responsible="区水务局",
        )
        fourth = await _file(s, p["wang"], message_id=4)
        await workflow.accept(s, case=fourth, actor=p["staff"], auth=staff)
        await workflow.not_ours(s, case=fourth, actor=p["staff"], auth=staff, reason="归城管")
        assert (fourth.status, fourth.unit_id) == (Status.NEW, None)
        assert fourth.id in [c.id for c in await assignment.triage_queue(s)]
        rows = await _outbox(s)
    by_kind = {(r.kind, r.params["case"], int(r.address)): r.params for r in rows}
    assert ("reopened", first.id, p["staff"].external_id) in by_kind
    assert by_kind[("case_update", second.id, p["wang"].external_id)]["original"] == first.id
    assert by_kind[("case_update", third.id, p["wang"].external_id)]["responsible"] == "区水务局"
    assert by_kind[("returned", fourth.id, p["secretary"].external_id)]["reason"] == "归城管"


async def test_recategorising_reroutes(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        p = await _setup(s)
        case = await _file(s, p["wang"], code="other")
        property_ = await categories.category_by_code(s, "property")
        await workflow.recategorise(
            s,
            case=case,
            category=property_,
            actor=p["secretary"],
            auth=await _auth(s, p["secretary"]),
            today=TODAY,
        )
        assert case.unit_id == (await routing.unit_by_code(s, "property")).id
        rows = await _outbox(s)
    assert [(r.kind, int(r.address)) for r in rows] == [("assigned", p["other_staff"].external_id)]


async def test_disputes_go_to_the_mediators_on_duty(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        p = await _setup(s)
        nobody_on_duty = await _file(s, p["wang"], code="labour", message_id=1)
        for name in ("mediator2", "mediator3"):
            s.add(DutySlot(day=TODAY, mediator_id=p[name].id))
        await s.flush()
        on_duty = await _file(s, p["wang"], code="labour", message_id=2)
        rows = await _outbox(s)
        mediator = await _auth(s, p["mediator1"])
        await workflow.accept(s, case=on_duty, actor=p["mediator1"], auth=mediator)
    told = lambda case: sorted(int(r.address) for r in rows if r.params["case"] == case.id)  # noqa: E731
    assert told(nobody_on_duty) == [
        p[n].external_id for n in ("mediator1", "mediator2", "mediator3")
    ]
    assert told(on_duty) == [p["mediator2"].external_id, p["mediator3"].external_id]
