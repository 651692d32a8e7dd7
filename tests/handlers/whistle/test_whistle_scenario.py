"""A whistle's whole life through the emulator, and who may see its results.

The scenario of issue 4: a secretary blows a whistle to two groups and thirty subscribers;
residents answer by button (one changes their answer) and by text, in private and in the
groups; the one reminder reaches only those who have not answered; at the deadline the results
reach the secretary and the groups. Time is moved by calling the sweep with `now=` (the
controllable clock), never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from bot.telegram.emulator import Emulator
from scheduler.whistles import sweep_whistles
from storage.db import session_scope
from storage.models import OutboxMessage
from storage.whistle.models import Whistle, WhistleAnswer, WhistleDelivery, WhistleOpinion
from storage.whistle.timetable import reminder_at
from tests.harness import GROUP, LI, WANG, ZHAO, BotUnderTest, buttons, texts
from tests.storage.whistle.test_results import answer, blow, opine

SECRETARY = ZHAO
GROUP2 = -100600
SUBSCRIBERS = list(range(2001, 2031))  # 1-10 live in building 3, 11-20 in 5, 21-30 gave none
QUESTION = "3号楼和5号楼车库要不要加装充电桩？"


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """Zhao is a secretary (YISHI_ADMINS)."""
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for user in (WANG, LI, ZHAO):
        await under_test.say(user, "/start")
    yield under_test
    await under_test.stop()


@pytest.fixture
async def estate(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """Thirty subscribers with their buildings; two groups registered by the secretary."""
    for number, user in enumerate(SUBSCRIBERS):
        emu.add_user(user, f"居民{number + 1}号", last_name="张", language_code="zh-hans")
    emu.add_group(GROUP2, "5号楼邻里群", member_ids=[ZHAO, *SUBSCRIBERS[10:20]])
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for index, user in enumerate(SUBSCRIBERS):
        if index < 20:
            await under_test.say(user, f"/profile {3 if index < 10 else 5}")
        await under_test.say(user, "/subscribe")
    await under_test.say(SECRETARY, "/register_group 3", chat=GROUP)
    await under_test.say(SECRETARY, "/register_group 5", chat=GROUP2)
    yield under_test
    await under_test.stop()


async def drain(bot: BotUnderTest) -> None:
    """Wait until the sender has delivered everything queued (it runs on its own)."""
    for _ in range(400):
        bot.sender.wake()
        async with session_scope(bot.engine) as s:
            query = select(OutboxMessage.id).where(OutboxMessage.status == "pending")
            if not (await s.exec(query)).first():
                return
        await asyncio.sleep(0.05)  # polling for the sender, not waiting for the clock
    raise TimeoutError("the outbox was not drained")


def with_text(bot: BotUnderTest, chat: int, words: str) -> list[dict[str, Any]]:
    return [
        m for m in bot.emu.bot_messages(chat) if words in (m.get("text") or m.get("caption") or "")
    ]


async def blow_the_whistle(bot: BotUnderTest) -> Whistle:
    """Zhao composes and sends a whistle to all groups and all subscribers."""
    await bot.say(SECRETARY, "/whistle")
    async with session_scope(bot.engine) as s:
        number = (await s.exec(select(Whistle.id))).one()
    await bot.say(SECRETARY, QUESTION)
    for step in ("o:{n}:0", "f:{n}:1", "g:{n}:all", "s:{n}", "ad:{n}"):
        await bot.press(SECRETARY, data="w1:" + step.format(n=number))
    (preview,) = await bot.say(SECRETARY, "3d")
    assert "30" in preview["text"]  # 2 groups and 30 residents (in the reader's language)
    await bot.press(SECRETARY, data=f"w1:r:{number}")  # results to the groups too
    await bot.press(SECRETARY, data=f"w1:ok:{number}")
    await drain(bot)
    async with session_scope(bot.engine) as s:
        whistle = await s.get(Whistle, number)
    assert whistle is not None and whistle.results_to_groups and whistle.status == "open"
    async with session_scope(bot.engine) as s:
        sent = (await s.exec(select(WhistleDelivery.chat_id))).all()
    assert sorted(sent) == sorted([GROUP2, GROUP, *SUBSCRIBERS])
    return whistle


async def test_a_whistle_to_two_groups_and_thirty_subscribers(estate: BotUnderTest) -> None:
    bot = estate
    whistle = await blow_the_whistle(bot)
    n = whistle.id
    for chat in (*SUBSCRIBERS, GROUP, GROUP2):
        assert len(with_text(bot, chat, QUESTION)) == 1, chat
    s = SUBSCRIBERS

    # Answers by button in private: 1, 3-5 agree; 2 and 6-8 disagree; 2 first agreed.
    for user, option in [(s[0], 0), (s[1], 0), (s[2], 0), (s[3], 0), (s[4], 0)]:
        await bot.press(user, data=f"w1:a:{n}:{option}")
    for user in (s[1], s[5], s[6], s[7]):
        await bot.press(user, data=f"w1:a:{n}:1")
    # By text: 9 replies to the whistle, 10 presses "write an opinion" and then writes.
    (mine,) = with_text(bot, s[8], QUESTION)
    bot.emu.send_text(
        s[8], "建议装在地下车库，别占地面车位", reply_to_message_id=mine["message_id"]
    )
    bot.expected += 1
    await bot.settle()
    await bot.press(s[9], data=f"w1:op:{n}")
    await bot.say(s[9], "充电桩装在地下车库，地面车位不够")
    # In the 5号楼 group: 11 presses "other", 12 replies with an opinion.
    (posted,) = with_text(bot, GROUP2, QUESTION)
    await bot.press(s[10], data=f"w1:a:{n}:2", chat=GROUP2)
    bot.emu.send_text(
        s[11], "要注意消防安全", chat_id=GROUP2, reply_to_message_id=posted["message_id"]
    )
    bot.expected += 1
    await bot.settle()

    async with session_scope(bot.engine) as session:
        answers = (await session.exec(select(WhistleAnswer))).all()
        opinions = (await session.exec(select(WhistleOpinion))).all()
    by_option = sorted(a.option for a in answers)
    assert by_option == [0, 0, 0, 0, 1, 1, 1, 1, 2]  # 2's change counted once, as disagree
    assert all(a.in_audience for a in answers) and len(opinions) == 3
    changed = [a for a in answers if a.changed_at is not None]
    assert len(changed) == 1 and changed[0].option == 1

    # The reminder, a day before the deadline: only the 18 who have not answered, never groups.
    assert whistle.deadline_at is not None
    at = reminder_at(whistle)
    assert at is not None
    swept = await sweep_whistles(bot.engine, now=at, tz=bot.settings.tz)
    assert swept.reminders == 18
    await drain(bot)
    reminded = [user for user in s if len(with_text(bot, user, QUESTION)) == 2]
    assert reminded == s[12:]  # the whistle, then the reminder repeating it
    assert all(len(with_text(bot, user, QUESTION)) == 1 for user in s[:12])
    assert len(with_text(bot, GROUP, QUESTION)) == len(with_text(bot, GROUP2, QUESTION)) == 1
    await sweep_whistles(bot.engine, now=at, tz=bot.settings.tz)  # a second sweep: nothing
    await drain(bot)
    assert all(len(with_text(bot, user, QUESTION)) == 2 for user in reminded)
    # 13 answers on the reminder's own button.
    reminder = with_text(bot, s[12], QUESTION)[1]
    assert f"w1:a:{n}:1" in str(reminder["reply_markup"])
    await bot.press(s[12], data=f"w1:a:{n}:1", message=reminder)

    # The deadline: closed once, the results to the secretary and both groups.
    swept = await sweep_whistles(bot.engine, now=whistle.deadline_at, tz=bot.settings.tz)
    assert swept.closed == 1
    await drain(bot)
    for chat in (SECRETARY, GROUP, GROUP2):
        (result,) = with_text(bot, chat, "· 3: 10/10 (100%)")
        words = result["text"]
        assert "· 同意: 4" in words or "· Agree: 4" in words, words
        assert ": 5\n" in words and ": 1\n" in words
        assert "13" in words and "30" in words  # 13 of 30 reached
        assert QUESTION in words and "· 5: 3/10 (30%)" in words
        assert "0/10 (0%)" in words  # those who gave no building
        assert "×2" in words and "地下车库" in words and "消防安全" in words
        for number in range(1, 31):
            assert f"居民{number}号" not in words  # never a name
        charts = [m for m in bot.emu.bot_messages(chat) if m.get("photo")]
        assert len(charts) == 1
    async with session_scope(bot.engine) as session:
        closed = await session.get(Whistle, n)
    assert closed is not None and closed.status == "closed" and closed.closed_at is not None
    assert (await sweep_whistles(bot.engine, now=closed.closed_at, tz=bot.settings.tz)).closed == 0
    # After the deadline a press is refused politely and changes nothing.
    await bot.press(s[20], data=f"w1:a:{n}:0")
    async with session_scope(bot.engine) as session:
        query = select(WhistleAnswer).where(col(WhistleAnswer.option) == 0)
        assert len((await session.exec(query)).all()) == 4


async def test_only_a_secretary_sees_whistles_and_their_results(bot: BotUnderTest) -> None:
    async with session_scope(bot.engine) as s:
        past = await blow(s, buildings=["3", "5"], status="closed")
        await answer(s, past, past.people[0], 0)
        await opine(s, past, past.people[1], "地面车位已经不够了")
        current = await blow(s, buildings=["3"], first=6000)
    number = past.whistle.id

    for user in (WANG, LI):  # residents and anyone else: no list, no buttons
        (refused,) = await bot.say(user, "/whistles")
        assert "#" not in refused["text"] and not buttons(refused)
    (in_group,) = await bot.say(SECRETARY, "/whistles", chat=GROUP)
    assert f"#{number}" not in in_group["text"] and not buttons(in_group)

    (listed,) = await bot.say(SECRETARY, "/whistles")
    assert listed["text"].index(f"#{current.whistle.id} ") < listed["text"].index(f"#{number} ")
    assert "2" in listed["text"].split(f"#{number} ")[1]  # two responses
    assert len(buttons(listed)) == 2

    # A forged results press by a resident, in their chat or in the group: nothing shown.
    for user, chat in ((WANG, WANG), (WANG, GROUP), (SECRETARY, GROUP)):
        before = len(bot.emu.bot_messages(chat))
        await bot.press(user, data=f"wr1:show:{number}", chat=chat, forged=True)
        assert len(bot.emu.bot_messages(chat)) == before
        assert bot.emu.callback_answers[-1].get("show_alert")
    # Forged or stale data from the secretary: polite, nothing shown.
    for data in ("wr1:show:999", "wr1:show:x"):
        await bot.press(SECRETARY, data=data, forged=True)
        assert bot.emu.callback_answers[-1].get("show_alert")

    shown = await bot.press(SECRETARY, data=f"wr1:show:{number}")
    words = texts(shown)
    assert len(shown) == 2 and shown[1].get("photo"), "the results, then the chart"
    assert past.whistle.question in words[0] and "地面车位已经不够了" in words[0]
    for person in past.people:
        assert person.name not in words[0]
