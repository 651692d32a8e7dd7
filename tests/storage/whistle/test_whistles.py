"""Composing and sending a whistle, answers and opinions, in storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.db import session_scope
from storage.errors import InvalidInput, NotAllowed, StaleAction
from storage.models import Case, Group, OutboxMessage, Resident
from storage.people import profiles
from storage.people.roles import Authority, Role
from storage.whistle import answers as whistle_answers
from storage.whistle import whistles
from storage.whistle.models import Whistle, WhistleAnswer, WhistleDelivery
from tests.storage.factories import resident

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def secretary_of(person: Resident) -> Authority:
    assert person.id is not None
    return Authority(resident_id=person.id, roles=frozenset({Role.RESIDENT, Role.SECRETARY}))


def resident_of(person: Resident) -> Authority:
    assert person.id is not None
    return Authority(resident_id=person.id, roles=frozenset({Role.RESIDENT}))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3d", NOW + timedelta(days=3)),
        ("48h", NOW + timedelta(hours=48)),
        ("48 小时", NOW + timedelta(hours=48)),
        ("3天", NOW + timedelta(days=3)),
        ("90m", NOW + timedelta(minutes=90)),
        ("2026-03-05 18:00", datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),  # local 18:00 (+8)
        ("3月5日 18点", datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),
        ("03-05", datetime(2026, 3, 5, 15, 59, tzinfo=UTC)),  # 23:59 local
        ("2026/3/5 9:30", datetime(2026, 3, 5, 1, 30, tzinfo=UTC)),
    ],
)
def test_deadlines_as_typed(typed: str, expected: datetime) -> None:
    assert whistles.parse_deadline(typed, now=NOW, tz=TZ) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("soon", "deadline_format"),
        ("2026-02-30 10:00", "deadline_format"),
        ("2026-03-05 25:00", "deadline_format"),
        ("2026-02-28 18:00", "deadline_past"),
        ("5m", "deadline_past"),
        ("0h", "deadline_past"),
        ("400d", "deadline_too_far"),
    ],
)
def test_deadlines_refused(typed: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        whistles.parse_deadline(typed, now=NOW, tz=TZ)
    assert refused.value.reason == reason


def test_options_as_typed() -> None:
    assert whistles.parse_options("同意 / 不同意 / 其他") == ["同意", "不同意", "其他"]
    assert whistles.parse_options("yes\nno,  maybe later") == ["yes", "no", "maybe later"]
    assert whistles.parse_options(" / ") == []


async def _people(s: AsyncSession) -> tuple[Resident, list[Resident], list[Group]]:
    secretary = await resident(s, 900)
    people = []
    for number, building in enumerate(["3", "3", "5", None]):
        person = await resident(s, 1000 + number)
        if building:
            await profiles.set_home(s, resident=person, building=building)
        await profiles.subscribe(s, resident=person, now=NOW)
        people.append(person)
    await resident(s, 1100)  # not subscribed
    groups = [Group(external_id=-1000 - n, title=f"G{n}") for n in range(3)]
    s.add_all(groups)
    await s.flush()
    by = secretary_of(secretary)
    for group in groups[:2]:
        await profiles.register_group(s, group=group, by=by, buildings=["3"], now=NOW)
    return secretary, people, groups


async def _compose(s: AsyncSession, by: Authority, *, audience: dict | None = None) -> Whistle:
    draft, created = await whistles.start_draft(s, by=by)
    assert created and draft.step == whistles.Step.QUESTION and draft.id is not None
    number = draft.id
    await whistles.set_question(s, by=by, whistle_id=number, text="  加装充电桩？ ")
    await whistles.set_options(s, by=by, whistle_id=number, options=["同意", "不同意", "其他"])
    await whistles.set_free_text(s, by=by, whistle_id=number, wanted=True)
    aud = audience or {"groups": "all", "subscribers": True, "buildings": []}
    await whistles.set_audience(s, by=by, whistle_id=number, **aud, done=True)
    draft = await whistles.set_deadline(
        s, by=by, whistle_id=number, deadline_at=NOW + timedelta(days=3), now=NOW
    )
    assert draft.step == whistles.Step.PREVIEW and draft.question == "加装充电桩？"
    return draft


async def test_a_draft_is_continued_and_sent_once(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        secretary, people, groups = await _people(s)
        by = secretary_of(secretary)
        draft = await _compose(s, by)
        again, created = await whistles.start_draft(s, by=by)
        assert again.id == draft.id and not created
        assert draft.id is not None
        whistle, count = await whistles.confirm(
            s, by=by, whistle_id=draft.id, now=NOW, report_chat_id=900, report_message_id=7,
            display={"tz": "Asia/Shanghai"},
        )  # fmt: skip
        assert count == 4 + 2 and whistle.status == "open" and whistle.sent_at == NOW
        assert (whistle.report_chat_id, whistle.report_message_id) == (900, 7)
        with pytest.raises(StaleAction):
            await whistles.confirm(s, by=by, whistle_id=draft.id, now=NOW)
        deliveries = (await s.exec(select(WhistleDelivery))).all()
        assert sorted(d.chat_id for d in deliveries) == sorted(
            [p.external_id for p in people] + [g.external_id for g in groups[:2]]
        )
        rows = (await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        assert {r.id for r in rows} == {d.outbox_id for d in deliveries}
        assert [r.params["group"] for r in rows[:2]] == [True, True]  # groups go first
        assert rows[2].params["question"] == "加装充电桩？" and rows[2].params["tz"]
        assert rows[0].dedup_key == f"whistle:{draft.id}:{groups[0].external_id}"
        counts = await whistles.delivery_counts(s, whistle_id=draft.id)
        assert (counts.queued, counts.sent, counts.pending) == (6, 0, 6)


@pytest.mark.parametrize(
    ("audience", "chats"),
    [
        ({"groups": [], "subscribers": False, "buildings": ["3"]}, [1000, 1001]),
        ({"groups": "chosen", "subscribers": False, "buildings": []}, [-1001]),
        ({"groups": [], "subscribers": True, "buildings": ["3"]}, [1000, 1001, 1002, 1003]),
    ],
)
async def test_audiences(engine: AsyncEngine, audience: dict, chats: list[int]) -> None:
    async with session_scope(engine) as s:
        secretary, _, groups = await _people(s)
        if audience["groups"] == "chosen":  # the second registered group and an unregistered one
            audience["groups"] = [groups[1].id, groups[2].id]
        resolved = await whistles.resolve_audience(s, audience=audience)
        reached = [g.external_id for g in resolved.groups] + [
            r.external_id for r in resolved.residents
        ]
        assert reached == chats


async def test_only_a_secretary_composes_and_only_their_own_draft(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        secretary, people, _ = await _people(s)
        draft = await _compose(s, secretary_of(secretary))
        assert draft.id is not None
        other_secretary = secretary_of(people[0])
        with pytest.raises(NotAllowed):
            await whistles.start_draft(s, by=resident_of(people[1]))
        with pytest.raises(NotAllowed):
            await whistles.confirm(s, by=resident_of(secretary), whistle_id=draft.id, now=NOW)
        with pytest.raises(StaleAction):  # another secretary's draft is not theirs to send
            await whistles.confirm(s, by=other_secretary, whistle_id=draft.id, now=NOW)
        with pytest.raises(NotAllowed):
            await whistles.cancel(s, by=resident_of(secretary), whistle_id=draft.id, now=NOW)
        assert (await s.get(Whistle, draft.id)).status == "draft"  # type: ignore[union-attr]


async def test_bad_steps_are_refused(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        secretary, _, _ = await _people(s)
        by = secretary_of(secretary)
        draft, _ = await whistles.start_draft(s, by=by)
        assert draft.id is not None
        for text in ("", "   ", "x" * 1001):
            with pytest.raises(InvalidInput):
                await whistles.set_question(s, by=by, whistle_id=draft.id, text=text)
        for options in (["only"], [str(n) for n in range(7)], ["a", "a"], ["x" * 31, "y"]):
            with pytest.raises(InvalidInput):
                await whistles.set_options(s, by=by, whistle_id=draft.id, options=options)
        await whistles.set_options(s, by=by, whistle_id=draft.id, options=[])
        assert draft.free_text and draft.step == whistles.Step.AUDIENCE  # opinions only
        with pytest.raises(InvalidInput):
            await whistles.set_free_text(s, by=by, whistle_id=draft.id, wanted=False)
        with pytest.raises(InvalidInput):
            await whistles.set_audience(
                s, by=by, whistle_id=draft.id, groups=[], subscribers=False, buildings=[],
                done=True,
            )  # fmt: skip
        with pytest.raises(InvalidInput):
            await whistles.set_deadline(
                s, by=by, whistle_id=draft.id, deadline_at=NOW - timedelta(hours=1), now=NOW
            )
        with pytest.raises(StaleAction):  # not at the preview yet
            await whistles.confirm(s, by=by, whistle_id=draft.id, now=NOW)


async def test_a_deadline_passed_while_previewing_goes_back_a_step(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        secretary, _, _ = await _people(s)
        by = secretary_of(secretary)
        draft = await _compose(s, by)
        assert draft.id is not None
        with pytest.raises(InvalidInput):
            await whistles.confirm(s, by=by, whistle_id=draft.id, now=NOW + timedelta(days=4))
        assert draft.step == whistles.Step.DEADLINE and draft.status == "draft"
        assert (await s.exec(select(OutboxMessage))).first() is None


async def _sent(s: AsyncSession) -> tuple[Whistle, Resident, list[Resident], list[Group]]:
    secretary, people, groups = await _people(s)
    draft = await _compose(s, secretary_of(secretary))
    assert draft.id is not None
    whistle, _ = await whistles.confirm(s, by=secretary_of(secretary), whistle_id=draft.id, now=NOW)
    return whistle, secretary, people, groups


async def test_answers_change_and_outsiders_are_marked(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        whistle, _, people, groups = await _sent(s)
        assert whistle.id is not None
        wang, outsider = people[0], await resident(s, 1100)
        first = await whistle_answers.record_answer(
            s, whistle_id=whistle.id, resident=wang, option=0, chat_id=wang.external_id, now=NOW
        )
        assert first.previous is None and first.in_audience and not first.changed
        again = await whistle_answers.record_answer(
            s, whistle_id=whistle.id, resident=wang, option=1, chat_id=wang.external_id, now=NOW
        )
        assert again.previous == 0 and again.changed
        out = await whistle_answers.record_answer(
            s, whistle_id=whistle.id, resident=outsider, option=2, chat_id=1100, now=NOW
        )
        assert not out.in_audience
        # An unsubscribed resident pressing in a group that got the whistle is in the audience.
        member = await resident(s, 1101)
        in_group = await whistle_answers.record_answer(
            s, whistle_id=whistle.id, resident=member, option=2,
            chat_id=groups[0].external_id, now=NOW,
        )  # fmt: skip
        assert in_group.in_audience
        answers = (await s.exec(select(WhistleAnswer).order_by(col(WhistleAnswer.id)))).all()
        assert [(a.option, a.in_audience, a.building) for a in answers] == [
            (1, True, "3"),
            (2, False, None),
            (2, True, None),
        ]
        assert answers[0].changed_at == NOW
        with pytest.raises(StaleAction):
            await whistle_answers.record_answer(
                s, whistle_id=whistle.id, resident=wang, option=3, chat_id=1, now=NOW
            )
        late = NOW + timedelta(days=3)
        with pytest.raises(whistle_answers.WhistleClosed):
            await whistle_answers.record_answer(
                s, whistle_id=whistle.id, resident=wang, option=0, chat_id=1, now=late
            )


async def test_opinions_once_per_message_and_into_a_case(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        whistle, secretary, people, groups = await _sent(s)
        assert whistle.id is not None
        li = people[1]
        opinion, created = await whistle_answers.record_opinion(
            s, whistle_id=whistle.id, resident=li, text=" 车位不够 ", chat_id=-1000,
            message_id=55, now=NOW,
        )  # fmt: skip
        assert created and opinion.text == "车位不够" and opinion.in_audience
        same, created = await whistle_answers.record_opinion(
            s, whistle_id=whistle.id, resident=li, text="车位不够", chat_id=-1000,
            message_id=55, now=NOW,
        )  # fmt: skip
        assert not created and same.id == opinion.id
        with pytest.raises(InvalidInput):
            await whistle_answers.record_opinion(
                s, whistle_id=whistle.id, resident=li, text="  !! ", chat_id=-1000,
                message_id=56, now=NOW,
            )  # fmt: skip
        with pytest.raises(NotAllowed):
            await whistle_answers.opinions(s, by=resident_of(li), whistle_id=whistle.id)
        page, total = await whistle_answers.opinions(
            s, by=secretary_of(secretary), whistle_id=whistle.id
        )
        assert total == 1 and page[0][1].id == li.id
        with pytest.raises(NotAllowed):
            await whistle_answers.opinion_to_case(
                s, by=resident_of(li), opinion_id=opinion.id or 0, today=date(2026, 3, 1)
            )
        case, created = await whistle_answers.opinion_to_case(
            s, by=secretary_of(secretary), opinion_id=opinion.id or 0, today=date(2026, 3, 1)
        )
        assert created and case.reporter_id == li.id and case.source == "whistle"
        assert case.text == "车位不够" and case.building == "3" and opinion.case_id == case.id
        again, created = await whistle_answers.opinion_to_case(
            s, by=secretary_of(secretary), opinion_id=opinion.id or 0, today=date(2026, 3, 1)
        )
        assert not created and again.id == case.id
        assert len((await s.exec(select(Case))).all()) == 1
        told = await s.exec(select(OutboxMessage).where(OutboxMessage.kind == "whistle_case"))
        assert [int(m.address) for m in told.all()] == [li.external_id]


async def test_a_whistle_message_is_found_from_a_reply(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        whistle, _, people, groups = await _sent(s)
        delivery = (
            await s.exec(select(WhistleDelivery).where(WhistleDelivery.chat_id == -1000))
        ).one()
        assert delivery.outbox_id is not None
        await outbox.mark_sent(s, message_id=delivery.outbox_id, sent_message_id=321)
        found = await whistle_answers.whistle_of_message(s, chat_id=-1000, message_id=321)
        assert found is not None and found.id == whistle.id
        assert await whistle_answers.whistle_of_message(s, chat_id=-1001, message_id=321) is None
        assert await whistle_answers.whistle_of_message(s, chat_id=-1000, message_id=322) is None


async def test_cancel_stops_answers_and_unsent_notices(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        whistle, secretary, people, _ = await _sent(s)
        assert whistle.id is not None
        first = (await s.exec(select(WhistleDelivery).order_by(col(WhistleDelivery.id)))).first()
        assert first is not None and first.outbox_id is not None
        await outbox.mark_sent(s, message_id=first.outbox_id, sent_message_id=1)
        await whistles.cancel(s, by=secretary_of(secretary), whistle_id=whistle.id, now=NOW)
        assert whistle.status == "cancelled" and whistle.cancelled_at == NOW
        counts = await whistles.delivery_counts(s, whistle_id=whistle.id)
        assert (counts.sent, counts.failed, counts.pending) == (1, 5, 0)
        with pytest.raises(whistle_answers.WhistleClosed):
            await whistle_answers.record_answer(
                s, whistle_id=whistle.id, resident=people[0], option=0, chat_id=1, now=NOW
            )
        with pytest.raises(StaleAction):
            await whistles.cancel(s, by=secretary_of(secretary), whistle_id=whistle.id, now=NOW)


async def test_blow_whistle_in_one_call(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        secretary, people, _ = await _people(s)
        whistle = await whistles.blow_whistle(
            s, secretary=secretary, question="Q?", options=["a", "b"],
            audience={"groups": [], "subscribers": True, "buildings": []},
            deadline_at=NOW + timedelta(days=1), now=NOW,
        )  # fmt: skip
        assert whistle.status == "open" and whistle.id is not None
        counts = await whistles.delivery_counts(s, whistle_id=whistle.id)
        assert counts.queued == len(people)
