"""A whistle's results (counts, rates by building, opinions grouped) and its timetable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.db import session_scope
from storage.models import Group, OutboxMessage, Resident
from storage.whistle.models import Whistle, WhistleAnswer, WhistleDelivery, WhistleOpinion
from storage.whistle.results import recent_whistles, response_counts, whistle_results
from storage.whistle.timetable import (
    Due,
    claim_closing,
    claim_reminder,
    due_whistles,
    reminder_at,
    reminder_targets,
)
from tests.storage.factories import resident

SENT_AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DEADLINE = SENT_AT + timedelta(days=3)
OPTIONS = ["agree", "disagree", "other"]


@dataclass
class Setup:
    whistle: Whistle
    secretary: Resident
    people: list[Resident] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)


async def blow(
    session: AsyncSession,
    *,
    buildings: list[str | None],
    groups: int = 0,
    first: int = 5000,
    sent_at: datetime = SENT_AT,
    deadline: datetime = DEADLINE,
    results_to_groups: bool = False,
    status: str = "open",
) -> Setup:
    """A secretary's open whistle delivered to one subscriber per entry of `buildings` and
    to `groups` registered groups, as if wcore's sending had run (outbox rows sent)."""
    secretary = await resident(session, first - 1)
    whistle = Whistle(
        created_by_id=secretary.id,
        question="Should the car park of building 3 get charging posts?",
        options=OPTIONS,
        audience={"groups": "all", "subscribers": True, "buildings": []},
        results_to_groups=results_to_groups,
        deadline_at=deadline,
        status=status,
        created_at=sent_at - timedelta(minutes=5),
        sent_at=sent_at,
    )
    session.add(whistle)
    await session.flush()
    setup = Setup(whistle, secretary)
    for number, building in enumerate(buildings):
        person = await resident(session, first + number)
        person.building, person.subscribed_at = building, sent_at - timedelta(days=1)
        session.add(person)
        setup.people.append(person)
        await _deliver(session, whistle, person.external_id, resident_id=person.id)
    for number in range(groups):
        group = Group(external_id=-100900 - number, title=f"Group {number}", registered_at=sent_at)
        session.add(group)
        await session.flush()
        setup.groups.append(group)
        await _deliver(session, whistle, group.external_id, group_id=group.id)
    return setup


async def _deliver(session: AsyncSession, whistle: Whistle, chat: int, **to: int | None) -> None:
    row = OutboxMessage(  # a stand-in for the whistle's own message
        address=str(chat),
        kind="text",
        params={"text": whistle.question},
        dedup_key=f"whistle:{whistle.id}:{chat}",
        status="sent",
    )
    session.add(row)
    await session.flush()
    session.add(WhistleDelivery(whistle_id=whistle.id, chat_id=chat, outbox_id=row.id, **to))
    await session.flush()


async def answer(
    session: AsyncSession, setup: Setup, person: Resident, option: int, *, inside: bool = True
) -> None:
    session.add(
        WhistleAnswer(
            whistle_id=setup.whistle.id,
            resident_id=person.id,
            option=option,
            in_audience=inside,
            building=person.building,
        )
    )
    await session.flush()


async def opine(
    session: AsyncSession, setup: Setup, person: Resident, text: str, *, inside: bool = True
) -> None:
    session.add(
        WhistleOpinion(
            whistle_id=setup.whistle.id,
            resident_id=person.id,
            text=text,
            in_audience=inside,
            building=person.building,
            source_chat_id=person.external_id,
            source_message_id=hash(text) % 100_000,
        )
    )
    await session.flush()


async def test_counts_rates_by_building_and_opinions_grouped_without_names(
    engine: AsyncEngine,
) -> None:
    async with session_scope(engine) as s:
        setup = await blow(s, buildings=["3", "3", "3", "3", "5", "5", None, None])
        p = setup.people
        await answer(s, setup, p[0], 0)
        await answer(s, setup, p[1], 0)
        await answer(s, setup, p[2], 1)
        await answer(s, setup, p[4], 2)
        await opine(s, setup, p[4], "充电桩应该装在地下车库，别占地面车位")
        await opine(s, setup, p[6], "充电桩装在地下车库吧，地面车位不够")
        await opine(s, setup, p[0], "Please think about fire safety of the chargers")
        # Two people outside the audience: one answers, one only writes.
        stranger = await resident(s, 7001)
        stranger.building = "5"
        other = await resident(s, 7002)
        await answer(s, setup, stranger, 1, inside=False)
        await opine(s, setup, other, "地下车库装充电桩最好", inside=False)
        found = await whistle_results(s, whistle=setup.whistle)
    assert [(o.label, o.count, o.outside) for o in found.options] == [
        ("agree", 2, 0),
        ("disagree", 1, 1),
        ("other", 1, 0),
    ]
    rates = {b.building: (b.answered, b.reached, b.outside) for b in found.buildings}
    assert rates == {"3": (3, 4, 0), "5": (1, 2, 1), None: (1, 2, 1)}
    assert [b.building for b in found.buildings] == ["3", "5", None]  # unknown last
    assert (found.answered, found.reached, found.outside) == (5, 8, 2)
    assert found.opinion_count == 4
    assert [g.count for g in found.opinions] == [3, 1]  # the most common first
    assert "地下车库" in found.opinions[0].text and "fire safety" in found.opinions[1].text
    everything = repr(found)
    assert "Resident" not in everything and "7001" not in everything


async def test_only_delivered_recipients_count_as_reached_and_group_members_who_answer_do(
    engine: AsyncEngine,
) -> None:
    async with session_scope(engine) as s:
        setup = await blow(s, buildings=["1", "1"], groups=1)
        blocked = setup.people[1]
        await s.exec(  # type: ignore[call-overload]
            OutboxMessage.__table__.update()  # type: ignore[attr-defined]
            .where(OutboxMessage.address == str(blocked.external_id))
            .values(status=outbox.Status.UNREACHABLE)
        )
        member = await resident(s, 7100)
        member.building = "2"
        await answer(s, setup, member, 0)  # in the audience through the group
        found = await whistle_results(s, whistle=setup.whistle)
    rates = {b.building: (b.answered, b.reached) for b in found.buildings}
    assert rates == {"1": (0, 1), "2": (1, 1)}


async def test_reminder_targets_are_subscribers_who_answered_nothing(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        setup = await blow(s, buildings=["1"] * 6, groups=2)
        p = setup.people
        await answer(s, setup, p[0], 1)
        await opine(s, setup, p[1], "我有意见")
        p[2].subscribed_at = None  # unsubscribed since
        p[3].unreachable_at = SENT_AT  # blocked the bot
        s.add_all([p[2], p[3]])
        await s.flush()
        targets = await reminder_targets(s, whistle_id=setup.whistle.id)
    assert [t.id for t in targets] == [p[4].id, p[5].id]
    assert all(t.external_id > 0 for t in targets)  # never a group


def test_the_reminder_goes_a_day_before_or_at_three_quarters_of_a_short_whistle() -> None:
    long = Whistle(created_by_id=1, sent_at=SENT_AT, deadline_at=SENT_AT + timedelta(days=7))
    assert reminder_at(long) == SENT_AT + timedelta(days=6)
    three_days = Whistle(created_by_id=1, sent_at=SENT_AT, deadline_at=DEADLINE)
    assert reminder_at(three_days) == DEADLINE - timedelta(hours=24)
    short = Whistle(created_by_id=1, sent_at=SENT_AT, deadline_at=SENT_AT + timedelta(hours=8))
    assert reminder_at(short) == SENT_AT + timedelta(hours=6)
    assert reminder_at(Whistle(created_by_id=1)) is None


async def test_the_sweep_finds_reminders_then_closings_and_each_claim_holds_once(
    engine: AsyncEngine,
) -> None:
    async with session_scope(engine) as s:
        setup = await blow(s, buildings=["1"])
        draft = await blow(s, buildings=["1"], first=6000, status="draft")
        wid = setup.whistle.id
        remind_at = DEADLINE - timedelta(hours=24)
        assert await due_whistles(s, now=remind_at - timedelta(seconds=1)) == Due()
        due = await due_whistles(s, now=remind_at)
        assert (due.remind, due.close) == ([wid], [])
        assert await claim_reminder(s, whistle_id=wid, now=remind_at)
        assert not await claim_reminder(s, whistle_id=wid, now=remind_at)
        assert (await due_whistles(s, now=remind_at)).remind == []
        due = await due_whistles(s, now=DEADLINE)
        assert (due.remind, due.close) == ([], [wid])
        assert draft.whistle.id not in due.close
        assert await claim_closing(s, whistle_id=wid, now=DEADLINE)
        assert not await claim_closing(s, whistle_id=wid, now=DEADLINE)
        assert await due_whistles(s, now=DEADLINE + timedelta(days=1)) == Due()
        await s.refresh(setup.whistle)
    assert (setup.whistle.status, setup.whistle.closed_at) == ("closed", DEADLINE)


async def test_a_whistle_found_past_its_deadline_is_closed_not_reminded(
    engine: AsyncEngine,
) -> None:
    async with session_scope(engine) as s:
        setup = await blow(s, buildings=["1"])
        due = await due_whistles(s, now=DEADLINE + timedelta(hours=3))
        assert (due.remind, due.close) == ([], [setup.whistle.id])
        assert not await claim_reminder(s, whistle_id=setup.whistle.id, now=DEADLINE)


async def test_listing_open_first_with_response_counts(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        closed = await blow(s, buildings=["1", "2"], status="closed")
        opened = await blow(s, buildings=["1", "2", "3"], first=6000)
        await blow(s, buildings=[], first=7000, status="draft")
        await answer(s, closed, closed.people[0], 0)
        await opine(s, closed, closed.people[0], "同意")  # the same person: one response
        await opine(s, closed, closed.people[1], "不同意")
        await answer(s, opened, opened.people[2], 1)
        listed = await recent_whistles(s)
        counts = await response_counts(s, whistle_ids=[w.id for w in listed])
    assert [w.id for w in listed] == [opened.whistle.id, closed.whistle.id]
    assert counts == {opened.whistle.id: 1, closed.whistle.id: 2}
