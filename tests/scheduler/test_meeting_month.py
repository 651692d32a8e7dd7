"""Must hold: a whole month of the deliberation meeting, walked with a controllable clock.

December 2026's meeting is on the last Saturday, the 26th, at 19:30 Beijing time: call for
topics on the 16th, draft agenda on the 23rd, agenda posted on the 24th, reminder on the 25th,
the meeting, minutes on the 27th. The scheduler's steps run with an explicit `now`; the bot's
handlers read the same clock (patched `utcnow`). Alice (English, so the words do not depend on
the catalogs) is the secretary.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.config import load_settings
from bot.telegram.emulator import Emulator
from handlers.deliberation.notices import minutes_text
from scheduler.meeting_cycle import run_meeting_cycle
from storage import people
from storage.db import create_engine, session_scope
from storage.deliberation import proposals
from storage.deliberation.meeting_models import AgendaItem, AgendaVote, Decision, Meeting, Proposal
from storage.models import OutboxMessage, utcnow
from storage.people import roles
from tests.harness import (
    ALICE,
    GROUP,
    LI,
    WANG,
    ZHAO,
    BotUnderTest,
    button_data,
    make_emulator,
    texts,
)

TZ = ZoneInfo("Asia/Shanghai")
SECRETARY = ALICE


def local(month: int, day: int, hour: int = 19, minute: int = 40, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def emu() -> Emulator:
    return make_emulator()


@pytest.fixture
def clock() -> Iterator[Clock]:
    ticking = Clock()
    with patch("handlers.deliberation.meetings.utcnow", ticking):
        yield ticking


@pytest.fixture
async def bot(emu: Emulator, database_url: str, clock: Clock) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for user in (WANG, LI, ZHAO, ALICE):
        await under_test.say(user, "/start")
    async with session_scope(under_test.engine) as s:
        group = await people.touch_group(s, channel="telegram", external_id=GROUP, title="阳光花园")
        group.registered_at = utcnow()
        s.add(group)
    yield under_test
    await under_test.stop()


async def step(bot: BotUnderTest, clock: Clock, now: datetime) -> int:
    clock.now = now
    queued = await run_meeting_cycle(bot.engine, now=now, settings=bot.settings)
    bot.sender.wake()
    return queued


async def delivered(bot: BotUnderTest, chat: int, *contains: str) -> dict:
    bot.sender.wake()
    return await bot.emu.wait_for_bot_message(
        chat, predicate=lambda m: all(c in (m.get("text") or "") for c in contains), timeout=5
    )


async def item_post(bot: BotUnderTest, title: str) -> dict:
    """An agenda item posted to the group with its vote buttons."""
    bot.sender.wake()
    return await bot.emu.wait_for_bot_message(
        GROUP,
        predicate=lambda m: title in (m.get("text") or "") and bool(m.get("reply_markup")),
        timeout=5,
    )


async def kinds_to(bot: BotUnderTest, chat: int) -> list[str]:
    async with session_scope(bot.engine) as s:
        query = select(OutboxMessage.kind).where(OutboxMessage.address == str(chat))
        return list((await s.exec(query.order_by(col(OutboxMessage.id)))).all())


async def november_with_an_open_decision(bot: BotUnderTest, clock: Clock) -> None:
    """Last month's meeting took a decision that is still open: unfinished business."""
    clock.now = local(11, 28, 20, 0)
    await bot.say(SECRETARY, "/agenda add 楼道堆物清理")
    await bot.say(SECRETARY, "/meeting start")
    reply = texts(await bot.say(SECRETARY, "/decide 清理三号楼楼道堆物 / property / 2027-02-28"))
    assert "Decision #1 recorded" in reply[0]
    await bot.say(SECRETARY, "/meeting end")


async def test_a_whole_month(bot: BotUnderTest, clock: Clock) -> None:
    await november_with_an_open_decision(bot, clock)
    await step(bot, clock, local(11, 29))  # November's minutes
    await delivered(bot, GROUP, "清理三号楼楼道堆物")

    # T-10: the call for topics goes to the registered group, once
    assert await step(bot, clock, local(12, 16)) == 1
    await delivered(bot, GROUP, "/propose")
    assert await step(bot, clock, local(12, 16, 20, 30)) == 0

    # topics proposed and supported
    async with session_scope(bot.engine) as s:
        wang = await people.find_resident(s, channel="telegram", external_id=str(WANG))
        li = await people.find_resident(s, channel="telegram", external_id=str(LI))
        zhao = await people.find_resident(s, channel="telegram", external_id=str(ZHAO))
        lift = await proposals.start_proposal(
            s, proposer=wang, text="小区电梯老化，申请加装智能电梯", now=local(12, 17)
        )
        gate = await proposals.start_proposal(
            s, proposer=zhao, text="东门门禁经常损坏，外来人员随意进出", now=local(12, 18)
        )
        for backer in (li, zhao):
            await proposals.support(
                s, resident=backer, subject="proposal", subject_id=lift.proposal.id,
                now=local(12, 19),
            )  # fmt: skip
    assert lift.proposal.status == gate.proposal.status == "open"

    # T-3: the draft agenda to the secretary: unfinished business first, then the proposals
    assert await step(bot, clock, local(12, 23)) == 1
    draft = await delivered(bot, SECRETARY, "Draft agenda")
    body = draft["text"]
    assert body.index("[unfinished business] 清理三号楼楼道堆物") < body.index("智能电梯")
    assert "门禁" in body

    # only a secretary edits or approves; the secretary adds a topic and reorders
    refused = texts(await bot.say(WANG, "/agenda approve"))[0]
    assert refused and "Agenda approved" not in refused
    await bot.press(WANG, data=button_data(draft, "Approve"), forged=True)  # a forged press
    await bot.say(SECRETARY, "/agenda add 垃圾分类亭选址")
    shown = texts(await bot.say(SECRETARY, "/agenda move 4 2"))[0]
    assert shown.index("垃圾分类亭选址") < shown.index("智能电梯")
    async with session_scope(bot.engine) as s:
        meeting = (await s.exec(select(Meeting).where(Meeting.period == "2026-12"))).one()
        assert meeting.status == "agenda_draft"
    approved = texts(await bot.press(SECRETARY, "Approve", message=draft))
    assert "Agenda approved" in approved[0]

    # T-2: the approved agenda to the group and privately to each item's supporters
    assert await step(bot, clock, local(12, 24)) >= 3
    await delivered(bot, GROUP, "垃圾分类亭选址")
    await delivered(bot, LI, "智能电梯")  # Li supported the lift proposal
    # T-1: the reminder
    await step(bot, clock, local(12, 25))
    assert "meeting_reminder" in await kinds_to(bot, GROUP)

    # T: the secretary starts the in-chat meeting; items go to the group with vote buttons
    await step(bot, clock, local(12, 26, 19, 30))
    opening = await delivered(bot, SECRETARY, "Run it in the group chat")
    panel = texts(await bot.press(SECRETARY, "Start the meeting in the chat", message=opening))
    assert "Item 1 is on the floor: 清理三号楼楼道堆物" in panel[0]
    first = await item_post(bot, "清理三号楼楼道堆物")
    # the unfinished decision is deferred again: it stays open
    await bot.say(SECRETARY, "/meeting defer")
    second = await item_post(bot, "垃圾分类亭选址")
    await bot.press(SECRETARY, data="m1:nx:2", forged=True)  # a stale press: not on the floor
    third_item = texts(await bot.say(SECRETARY, "/meeting next"))[0]
    assert "智能电梯" in third_item
    item = await item_post(bot, "智能电梯")

    # votes: one per resident and item, changeable while the item is on the floor only
    vote_for = _vote(item, "f")
    await bot.press(WANG, data=vote_for, message=item, chat=GROUP, forged=True)
    await bot.press(WANG, data=_vote(item, "a"), message=item, chat=GROUP, forged=True)
    assert bot.answers()[-1] == "您的投票已改为“反对”。赞成 0 · 反对 1 · 弃权 0"
    await bot.press(LI, data=_vote(item, "a"), message=item, chat=GROUP, forged=True)
    await bot.press(ZHAO, data=_vote(first, "f"), message=first, chat=GROUP, forged=True)
    await bot.press(ZHAO, data=_vote(second, "f"), message=second, chat=GROUP, forged=True)
    assert bot.answers()[-1] == "这个事项的表决已经结束。"
    await bot.press(ZHAO, data=vote_for, message=item, chat=GROUP, forged=True)
    async with session_scope(bot.engine) as s:
        votes = (await s.exec(select(AgendaVote))).all()
    assert sorted((v.resident_id, v.choice) for v in votes) == [
        (1, "against"),
        (2, "against"),
        (3, "for"),
    ]

    # decisions recorded by the secretary (a resident cannot)
    await bot.say(WANG, "/decide 加装智能电梯 / property / 2027-03-31")
    recorded = texts(
        await bot.say(SECRETARY, "/decide 加装智能电梯，物业牵头申报 / property / 2027-03-31")
    )
    assert "Decision #2 recorded" in recorded[0]
    await delivered(bot, GROUP, "加装智能电梯，物业牵头申报")
    await bot.say(SECRETARY, "/decide 门禁系统本月内维修 / property / 2027-01-15")
    await bot.say(SECRETARY, "/meeting end")

    # T+1: minutes and the decisions to the group
    await step(bot, clock, local(12, 27))
    minutes = await delivered(bot, GROUP, "门禁系统本月内维修", "加装智能电梯，物业牵头申报")
    assert "垃圾分类亭选址" in minutes["text"]  # every item, with its outcome
    async with session_scope(bot.engine) as s:
        meeting = (await s.exec(select(Meeting).where(Meeting.period == "2026-12"))).one()
        decided = (await s.exec(select(Decision).order_by(col(Decision.id)))).all()
        lift_now = await s.get(Proposal, lift.proposal.id)
    assert meeting.status == "minuted" and "门禁系统本月内维修" in meeting.minutes
    # kept as data, worded for the reader: the same words the group was sent
    assert minutes_text(json.loads(meeting.minutes), "zh") == minutes["text"]
    assert [(d.id, d.status) for d in decided] == [(1, "open"), (2, "open"), (3, "open")]
    assert lift_now.status == "decided"

    # the gate decision is done: its proposer (Zhao) is told; the lift one stays open
    done = texts(await bot.say(SECRETARY, "/decision 3 done"))[0]
    assert "Decision #3 is done" in done
    await delivered(bot, ZHAO, "门禁系统本月内维修")

    # next month: the open decisions are carried onto January's draft as unfinished business
    await step(bot, clock, local(1, 27, year=2027))
    january = await delivered(bot, SECRETARY, "2027-01-30 19:30")
    assert "[unfinished business] 加装智能电梯，物业牵头申报" in january["text"]
    assert "门禁系统本月内维修" not in january["text"]
    async with session_scope(bot.engine) as s:
        meeting = (await s.exec(select(Meeting).where(Meeting.period == "2027-01"))).one()
        items = (await s.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id))).all()
    assert {(i.kind, i.decision_id) for i in items if i.kind == "unfinished"} == {
        ("unfinished", 1),
        ("unfinished", 2),
    }


def _vote(message: dict, choice: str) -> str:
    """The callback data of a vote button (the labels are in the group's language)."""
    rows = message["reply_markup"]["inline_keyboard"]
    found = [b["callback_data"] for row in rows for b in row]
    return next(d for d in found if d.startswith("m1:v:") and d.endswith(f":{choice}"))


async def test_steps_wait_until_due_and_catch_up_once(bot: BotUnderTest, clock: Clock) -> None:
    """Nothing before T-10; a step missed while down is made up before the next step, once."""
    assert await step(bot, clock, local(12, 16) - timedelta(hours=1)) == 0
    assert await step(bot, clock, local(12, 22, 23, 0)) == 1  # the call for topics, late
    assert await step(bot, clock, local(12, 22, 23, 10)) == 0
    assert await kinds_to(bot, GROUP) == ["meeting_topics"]


async def test_two_instances_side_by_side_post_each_step_once(database_url: str) -> None:
    """Two processes' jobs racing on one database (on PostgreSQL: a real race) post once."""
    settings = load_settings(database_url=database_url)
    engines = [create_engine(settings.database_url) for _ in range(2)]
    try:
        async with session_scope(engines[0]) as s:
            group = await people.touch_group(s, channel="telegram", external_id=GROUP, title="群")
            group.registered_at = utcnow()
            s.add(group)
        runs = [run_meeting_cycle(e, now=local(12, 16), settings=settings) for e in engines]
        assert sorted(await asyncio.gather(*runs)) == [0, 1]
        async with session_scope(engines[0]) as s:
            kinds = (await s.exec(select(OutboxMessage.kind))).all()
        assert kinds == ["meeting_topics"]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_an_agenda_never_approved_is_asked_about_again_once(
    bot: BotUnderTest, clock: Clock
) -> None:
    """Nobody approves December's draft: at T-3 each secretary gets the draft, at T-2 each is
    asked again (not posted to the group), and a second run of either step sends nothing more."""
    async with session_scope(bot.engine) as s:
        zhao = await people.find_resident(s, channel="telegram", external_id=str(ZHAO))
        assert zhao is not None
        await roles.grant(s, resident=zhao, role=roles.Role.SECRETARY)
    assert [await step(bot, clock, local(12, 16)) for _ in range(2)] == [1, 0]  # topics
    assert await step(bot, clock, local(12, 23)) == 2
    assert await step(bot, clock, local(12, 23, 19, 50)) == 0
    await delivered(bot, SECRETARY, "Draft agenda for the meeting on 2026-12-26 19:30")
    assert await step(bot, clock, local(12, 24)) == 2
    assert await step(bot, clock, local(12, 24, 19, 50)) == 0
    again = await delivered(bot, SECRETARY, "is not approved yet")
    assert again["text"] == (
        "The agenda for 2026-12-26 19:30 is not approved yet, so it has not been posted.\n"
        "(nothing on the agenda yet)\n"
        "Approve it with one tap, or edit it."
    )
    await delivered(bot, ZHAO, "尚未批准")
    for secretary in (SECRETARY, ZHAO):
        assert await kinds_to(bot, secretary) == ["meeting_draft", "meeting_draft"]
    assert "meeting_agenda" not in await kinds_to(bot, GROUP)
