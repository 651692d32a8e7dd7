"""Joint inspections in storage: rounds, hazard lines, hazards as routed cases, round counts."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from storage import inspections
from storage.cases import assignment, categories, drafts, routing, workflow
from storage.db import session_scope
from storage.errors import InvalidInput, StaleAction
from storage.inspections import HazardKind, HazardLine, parse_line
from storage.models import Case, Category, Hazard, OutboxMessage, Route
from storage.people.pending import Awaiting, drop_input, expect_input
from storage.people.roles import Role, authority, grant
from tests.storage import factories
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3号楼地下车库B区 / 物业公司 / 7", HazardLine("3号楼地下车库B区", "物业公司", 7)),
        ("5号楼消防通道／物业／3天", HazardLine("5号楼消防通道", "物业", 3)),
        ("3/4号楼之间  /  租户张某 / 0", HazardLine("3/4号楼之间", "租户张某", 0)),
        (
            "Car park B / Property company / 14 days",
            HazardLine("Car park B", "Property company", 14),
        ),
    ],
)
def test_a_good_line_is_read(text: str, expected: HazardLine) -> None:
    assert parse_line(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "hazard_format"),
        ("地下车库B区有电动车充电", "hazard_format"),
        ("地下车库 / 7", "hazard_format"),
        ("地下车库 /  / 7", "hazard_format"),
        ("地下车库 / 物业 / 七天", "hazard_days"),
        ("地下车库 / 物业 / 400", "hazard_days"),
        ("地下车库 / 物业 / -1", "hazard_days"),
        ("车" * 301 + " / 物业 / 7", "too_long"),
    ],
)
def test_a_bad_line_says_why(text: str | None, reason: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_line(text)
    assert error.value.reason == reason


def test_the_deadline_is_the_end_of_the_local_day() -> None:
    deadline = inspections.rectification_deadline(TODAY, 7, TZ)
    assert deadline == datetime(2026, 12, 5, 15, 59, 59, tzinfo=UTC)
    assert deadline.astimezone(TZ).date() == date(2026, 12, 5)


async def _people(s):
    inspector, other, staff = [await resident(s, n) for n in (1, 2, 3)]
    safety = await routing.unit_by_code(s, "safety")
    await grant(s, resident=staff, role=Role.STAFF, unit_id=safety.id)
    for person in (inspector, other):
        await grant(s, resident=person, role=Role.INSPECTOR)
    return inspector, other, staff


async def _log(s, walk, inspector, kind, text, message_id, photo=None):
    return await inspections.log_hazard(
        s,
        round_=walk,
        inspector=inspector,
        kind=kind,
        line=parse_line(text),
        photo=await factories.photo(s, photo) if photo else None,
        today=TODAY,
        tz=TZ,
        source_chat_id=inspector.external_id,
        source_message_id=message_id,
    )


async def test_a_round_is_continued_until_it_ends(engine) -> None:
    async with session_scope(engine) as s:
        inspector, other, _staff = await _people(s)
        first, started = await inspections.start_round(s, inspector=inspector)
        again, started_again = await inspections.start_round(s, inspector=inspector)
        assert started and not started_again and again.id == first.id
        with pytest.raises(StaleAction):
            await inspections.end_round(s, inspector=other, round_id=first.id)
        await inspections.end_round(s, inspector=inspector, round_id=first.id)
        with pytest.raises(StaleAction):
            await inspections.round_in_progress(s, inspector=inspector, round_id=first.id)
        assert await inspections.open_round(s, inspector=inspector) is None
        second, started = await inspections.start_round(s, inspector=inspector)
        assert started and second.id != first.id


async def test_a_hazard_is_a_routed_inspection_case_due_at_its_deadline(engine) -> None:
    async with session_scope(engine) as s:
        inspector, _other, staff = await _people(s)
        walk, _ = await inspections.start_round(s, inspector=inspector)
        case, created = await _log(
            s, walk, inspector, HazardKind.UNDERGROUND_PARKING, "地下车库B区 / 物业 / 7", 10, "ph1"
        )
        again, created_again = await _log(
            s, walk, inspector, HazardKind.UNDERGROUND_PARKING, "地下车库B区 / 物业 / 7", 10
        )
        rental, _ = await _log(s, walk, inspector, HazardKind.GROUP_RENTAL, "7号楼 / 房东 / 3", 11)
    deadline = inspections.rectification_deadline(TODAY, 7, TZ)
    async with session_scope(engine) as s:
        case = await s.get(Case, case.id)
        category = await s.get(Category, case.category_id)
        hazard = await s.get(Hazard, case.id)
        assert created and not created_again and again.id == case.id
        assert (
            case.source,
            category.code,
            case.text,
            await factories.photo_refs(s, case.photos),
        ) == (
            "inspection",
            "safety",
            "地下车库B区",
            ["ph1"],
        )
        assert case.due_at == deadline and case.unit_id is not None
        assert (hazard.round_id, hazard.kind, hazard.place, hazard.responsible_party) == (
            walk.id,
            "underground_parking",
            "地下车库B区",
            "物业",
        )
        assert hazard.deadline == deadline
        rental_category = await s.get(Category, (await s.get(Case, rental.id)).category_id)
        assert rental_category.code == "group_rental"
        assert len((await s.exec(select(Hazard))).all()) == 2
        notices = (
            await s.exec(select(OutboxMessage).where(OutboxMessage.kind == "assigned"))
        ).all()
        first = [n for n in notices if n.params["case"] == case.id]
        assert [int(n.address) for n in first] == [staff.external_id]
        assert first[0].params["due_at"] == deadline.isoformat(), "the unit is told the deadline"


async def test_a_hazard_of_an_unrouted_category_waits_for_triage_due_at_its_deadline(
    engine,
) -> None:
    async with session_scope(engine) as s:
        inspector, _other, _staff = await _people(s)
        safety = await categories.category_by_code(s, "safety")
        await s.delete(await s.get(Route, safety.id))
        walk, _ = await inspections.start_round(s, inspector=inspector)
        case, _ = await _log(s, walk, inspector, HazardKind.FIRE_PASSAGE, "5号楼 / 物业 / 3", 10)
    async with session_scope(engine) as s:
        case = await s.get(Case, case.id)
        assert (case.unit_id, case.due_at) == (
            None,
            inspections.rectification_deadline(TODAY, 3, TZ),
        )
        assert [c.id for c in await assignment.triage_queue(s)] == [case.id]
        assert (await s.exec(select(OutboxMessage))).all() == []


async def test_rounds_count_found_and_rectified_per_inspector(engine) -> None:
    async with session_scope(engine) as s:
        inspector, other, staff = await _people(s)
        walk, _ = await inspections.start_round(s, inspector=inspector)
        logged = [
            (await _log(s, walk, inspector, HazardKind.OTHER, f"{n}号楼 / 物业 / 5", n))[0]
            for n in (1, 2, 3)
        ]
        staff_auth = await authority(s, resident=staff, admin_ids=frozenset())
        await workflow.resolve(
            s, case=logged[0], actor=staff, auth=staff_auth, note="已清理", photo="after"
        )
        theirs, _ = await inspections.start_round(s, inspector=other)
        await _log(s, theirs, other, HazardKind.FIRE_PASSAGE, "5号楼 / 物业 / 1", 4)
        await inspections.end_round(s, inspector=other, round_id=theirs.id)
    async with session_scope(engine) as s:
        mine = await inspections.rounds(s, inspector=inspector)
        everyone = await inspections.rounds(s, inspector=None)
    assert [(r.round.id, r.found, r.rectified) for r in mine] == [(walk.id, 3, 1)]
    assert [(r.round.id, r.found, r.rectified) for r in everyone] == [
        (theirs.id, 1, 0),
        (walk.id, 3, 1),
    ]
    assert everyone[0].inspector == other.name and everyone[0].round.ended_at is not None


async def test_a_round_waits_while_something_else_is_awaited(engine) -> None:
    async with session_scope(engine) as s:
        inspector, _other, _staff = await _people(s)
        assert await inspections.round_taking_hazards(s, resident=inspector) is None
        walk, _ = await inspections.start_round(s, inspector=inspector)
        assert (await inspections.round_taking_hazards(s, resident=inspector)).id == walk.id
        case, _ = await _log(s, walk, inspector, HazardKind.OTHER, "1号楼 / 物业 / 5", 1)
        await expect_input(s, resident=inspector, kind=Awaiting.FOLLOWUP, case_id=case.id)
        assert await inspections.round_taking_hazards(s, resident=inspector) is None
        await drop_input(s, resident=inspector)
        await drafts.start_draft(s, resident=inspector, chat_id=inspector.external_id)
        assert await inspections.round_taking_hazards(s, resident=inspector) is None
        await drafts.discard_draft(s, resident=inspector)
        assert (await inspections.round_taking_hazards(s, resident=inspector)).id == walk.id
