"""Composing, sending and answering a whistle through the emulator (the real PTB stack).

Zhao is a secretary (YISHI_ADMINS); Wang and Li subscribe; the group is registered. The outbox
is drained by the real sender; the delivery report's job is called with an explicit `now`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from bot.telegram.emulator import Emulator
from scheduler.whistle_delivery import update_reports
from storage.db import session_scope
from storage.models import Case, OutboxMessage, Resident, utcnow
from storage.whistle.models import Whistle, WhistleAnswer, WhistleOpinion
from storage.whistle.whistles import delivery_counts
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest, texts

SECRETARY = ZHAO
SUFFIX = {"o": ":0", "f": ":1", "g": ":all", "b": ":0", "d": ":3", "e": ":question", "ops": ":0"}


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for user in (WANG, LI, SECRETARY):  # English, whatever the catalogs say at the time
        await under_test.say(user, "/lang en")
    for user in (WANG, LI):
        await under_test.say(user, "/subscribe")
    await under_test.say(WANG, "/profile 3号楼 2单元")
    await under_test.say(ALICE, "/start")
    await under_test.say(SECRETARY, "/register_group 3 5", chat=GROUP)
    yield under_test
    await under_test.stop()


async def compose(bot: BotUnderTest) -> int:
    """Zhao composes a whistle to all groups and all subscribers, up to the preview."""
    (first,) = await bot.say(SECRETARY, "/whistle")
    async with session_scope(bot.engine) as s:
        number = (await s.exec(select(Whistle.id))).one()
    assert number is not None and "w1:x:" in str(first["reply_markup"])
    await bot.say(SECRETARY, "3号楼车库要不要加装充电桩？")
    await bot.press(SECRETARY, data=f"w1:o:{number}:0")  # agree / disagree / other
    await bot.press(SECRETARY, data=f"w1:f:{number}:1")  # opinions wanted
    await bot.press(SECRETARY, data=f"w1:g:{number}:all")
    await bot.press(SECRETARY, data=f"w1:s:{number}")
    await bot.press(SECRETARY, data=f"w1:ad:{number}")
    (preview,) = await bot.say(SECRETARY, "3d")
    assert "3号楼车库要不要加装充电桩？" in preview["text"]
    assert "1 groups and 2 residents" in preview["text"]
    return number


async def send(bot: BotUnderTest, number: int) -> dict[str, Any]:
    """Press "send now" and let the outbox deliver everything; the report message."""
    message = bot.message_with_button(SECRETARY, data=f"w1:ok:{number}")
    await bot.press(SECRETARY, data=f"w1:ok:{number}")
    await drain(bot)
    return message


async def drain(bot: BotUnderTest) -> None:
    for _ in range(200):
        bot.sender.wake()
        async with session_scope(bot.engine) as s:
            pending = (
                await s.exec(select(OutboxMessage.id).where(OutboxMessage.status == "pending"))
            ).all()
        if not pending:
            return
        await asyncio.sleep(0.05)  # the sender's own pace, not a clock: it polls every 0.05 s
    raise TimeoutError("outbox not drained")


def whistle_message(bot: BotUnderTest, chat: int, number: int) -> dict[str, Any]:
    return bot.message_with_button(chat, data=f"w1:a:{number}:0")


async def test_compose_preview_confirm_and_a_report_edited_in_place(bot: BotUnderTest) -> None:
    number = await compose(bot)
    assert not bot.emu.bot_messages(WANG)[-1:] or "w1:a" not in str(bot.emu.bot_messages(WANG))
    report = await send(bot, number)
    for chat in (WANG, LI, GROUP):
        message = whistle_message(bot, chat, number)
        assert "3号楼车库要不要加装充电桩？" in message["text"]
    assert ALICE not in [m["chat"]["id"] for m in bot.emu.bot_messages(ALICE) if "w1:a" in str(m)]
    before = len(bot.emu.bot_messages(SECRETARY))
    async with session_scope(bot.engine) as s:
        whistle = await s.get(Whistle, number)
        assert whistle is not None and whistle.status == "open"
        assert whistle.report_message_id == report["message_id"]
    assert await update_reports(bot.engine, now=utcnow(), tz="Asia/Shanghai") == 1
    await drain(bot)
    assert await update_reports(bot.engine, now=utcnow(), tz="Asia/Shanghai") == 0  # final
    edited = [m for m in bot.emu.bot_messages(SECRETARY) if m["message_id"] == report["message_id"]]
    assert "Queued 3 · sent 3 · failed 0 · blocked 0" in edited[0]["text"]
    assert len(bot.emu.bot_messages(SECRETARY)) == before  # edited, not sent anew


async def test_the_preview_edit_buttons_go_back_to_their_step(bot: BotUnderTest) -> None:
    await compose(bot)
    await bot.press(SECRETARY, "Edit audience")
    assert bot.emu.callback_answers[-1]["text"] is None  # answered quietly, not "expired"
    audience = bot.message_with_button(SECRETARY, text="Done ➡️")
    assert audience["text"].startswith("4/5. Who should get it?")


async def test_nobody_but_a_secretary(bot: BotUnderTest) -> None:
    number = await compose(bot)
    (refused,) = await bot.say(WANG, "/whistle")
    assert "Only a secretary" in refused["text"] or "书记" in refused["text"]
    (refused,) = await bot.say(WANG, f"/opinions {number}")
    assert "#" not in refused["text"]
    (refused,) = await bot.say(WANG, "/register_group 7", chat=GROUP)
    assert "only a secretary" in refused["text"].lower() or "书记" in refused["text"]
    for action in (
        "ok",
        "x",
        "o",
        "f",
        "g",
        "s",
        "b",
        "ad",
        "d",
        "r",
        "e",
        "cx",
        "cy",
        "ops",
        "case",
    ):
        data = f"w1:{action}:{number}" + SUFFIX.get(action, "")
        for chat in (WANG, GROUP):
            before = len(bot.emu.bot_messages(chat))
            await bot.press(WANG, data=data, chat=chat, forged=True)
            assert bot.emu.callback_answers[-1].get("show_alert"), data
            assert len(bot.emu.bot_messages(chat)) == before
    async with session_scope(bot.engine) as s:
        whistle = await s.get(Whistle, number)
        assert whistle is not None and whistle.status == "draft"
        assert (
            await s.exec(select(OutboxMessage).where(OutboxMessage.kind == "whistle"))
        ).first() is None


async def test_answers_opinions_and_an_opinion_becomes_a_case(bot: BotUnderTest) -> None:
    number = await compose(bot)
    await send(bot, number)
    # Wang answers by button, then changes his mind; each press is acknowledged.
    await bot.press(WANG, data=f"w1:a:{number}:0", message=whistle_message(bot, WANG, number))
    assert bot.answers()[-1] == "Recorded: Agree" or "同意" in bot.answers()[-1]
    await bot.press(WANG, data=f"w1:a:{number}:1", message=whistle_message(bot, WANG, number))
    assert "Disagree" in bot.answers()[-1] or "不同意" in bot.answers()[-1]
    assert bot.answers()[-1].startswith(("Changed to", "已改为"))
    # Li answers in the group; Alice (not subscribed) presses a forged button in private.
    await bot.press(
        LI, data=f"w1:a:{number}:2", chat=GROUP, message=whistle_message(bot, GROUP, number)
    )
    await bot.press(ALICE, data=f"w1:a:{number}:0", chat=ALICE, forged=True)
    # A reply in the group, a reply in private, and "write an opinion" then a message.
    group_message = whistle_message(bot, GROUP, number)
    acknowledged = await bot._turn(GROUP, lambda: bot.emu.send_text(
        LI, "地面车位已经不够了，充电桩请装在地下", chat_id=GROUP,
        reply_to_message_id=group_message["message_id"]))  # fmt: skip
    assert len(acknowledged) == 1 and "李" not in acknowledged[0]["text"]
    wang_message = whistle_message(bot, WANG, number)
    await bot._turn(WANG, lambda: bot.emu.send_text(
        WANG, "希望晚上不要施工", reply_to_message_id=wang_message["message_id"]))  # fmt: skip
    await bot.press(WANG, data=f"w1:op:{number}", message=wang_message)
    await bot.say(WANG, "另外电费怎么算？")
    await bot.press(LI, data=f"w1:op:{number}", chat=GROUP, message=group_message)
    assert bot.emu.callback_answers[-1].get("url") == f"https://t.me/yishi_bot?start=w{number}"
    await bot.say(LI, f"/start w{number}")
    await bot.say(LI, "私下说：物业收费太高")
    async with session_scope(bot.engine) as s:
        answers = (await s.exec(select(WhistleAnswer).order_by(col(WhistleAnswer.id)))).all()
        opinions = (await s.exec(select(WhistleOpinion).order_by(col(WhistleOpinion.id)))).all()
        ids = {r.external_id: r.id for r in (await s.exec(select(Resident))).all()}
    assert [(a.resident_id, a.option, a.in_audience) for a in answers] == [
        (ids[WANG], 1, True),
        (ids[LI], 2, True),
        (ids[ALICE], 0, False),
    ]
    assert [(o.resident_id, o.text) for o in opinions] == [
        (ids[LI], "地面车位已经不够了，充电桩请装在地下"),
        (ids[WANG], "希望晚上不要施工"),
        (ids[WANG], "另外电费怎么算？"),
        (ids[LI], "私下说：物业收费太高"),
    ]
    # The secretary reads the opinions and files the first as a case, with one press.
    (listing,) = await bot.say(SECRETARY, f"/opinions {number}")
    assert "地面车位已经不够了" in listing["text"]
    (filed,) = await bot.press(SECRETARY, data=f"w1:case:{opinions[0].id}", message=listing)
    async with session_scope(bot.engine) as s:
        case = (await s.exec(select(Case))).one()
        opinion = await s.get(WhistleOpinion, opinions[0].id)
    assert f"#{case.id}" in filed["text"] and case.reporter_id == ids[LI]
    assert case.source == "whistle" and opinion is not None and opinion.case_id == case.id
    await drain(bot)
    assert any(f"#{case.id}" in t for t in texts(bot.emu.bot_messages(LI)))


async def test_cancelled_whistle_refuses_presses_politely(bot: BotUnderTest) -> None:
    number = await compose(bot)
    await send(bot, number)
    await bot.press(SECRETARY, data=f"w1:cx:{number}")
    await bot.press(SECRETARY, data=f"w1:cy:{number}")
    # a stale "Cancel" (say, from an older copy of the report) asks nothing: it says why
    assert texts(await bot.press(SECRETARY, data=f"w1:cx:{number}", forged=True)) == []
    assert bot.answers()[-1] == f"Whistle #{number}: cancelled"
    await bot.press(WANG, data=f"w1:a:{number}:0", message=whistle_message(bot, WANG, number))
    assert "closed" in bot.answers()[-1] or "结束" in bot.answers()[-1]
    async with session_scope(bot.engine) as s:
        assert (await s.exec(select(WhistleAnswer))).first() is None
        assert (await s.get(Whistle, number)).status == "cancelled"  # type: ignore[union-attr]


async def test_a_blocked_subscriber_is_counted_and_not_retried(bot: BotUnderTest) -> None:
    number = await compose(bot)
    bot.emu.block(LI, notify_bot=False)
    await send(bot, number)
    await update_reports(bot.engine, now=utcnow(), tz="Asia/Shanghai")
    await drain(bot)
    async with session_scope(bot.engine) as s:
        counts = await delivery_counts(s, whistle_id=number)
        li = (await s.exec(select(Resident).where(Resident.external_id == LI))).one()
    assert (counts.queued, counts.sent, counts.blocked) == (3, 2, 1)
    assert li.unreachable_at is not None
    sends = [
        c
        for c in bot.emu.calls_of("sendMessage")
        if str(c.get("chat_id")) == str(LI) and "w1:a" in str(c.get("reply_markup"))
    ]
    assert len(sends) == 1  # the one that said 403; never again
    report = [m for m in bot.emu.bot_messages(SECRETARY) if "blocked 1" in (m.get("text") or "")]
    assert report


async def test_profile_phone_and_subscription(bot: BotUnderTest) -> None:
    (shown,) = await bot.say(LI, "/profile 5栋")
    assert "5" in shown["text"]
    assert shown.get("reply_markup") is None  # the contact button is a reply keyboard
    assert bot.emu.reply_keyboard(LI) is not None
    # Someone else's contact card is refused; one's own is kept and shown masked.
    stranger = {"phone_number": "13900001111", "first_name": "X", "user_id": WANG}
    (refused,) = await bot._turn(LI, lambda: bot.emu._post(LI, None, {"contact": stranger}))
    (kept,) = await bot._turn(LI, lambda: bot.emu.send_contact(LI, "+86 138 1234 5678"))
    assert "138****5678" in kept["text"] and "12345678" not in kept["text"]
    (shown,) = await bot.say(LI, "/profile")
    assert "138****5678" in shown["text"]
    (bad,) = await bot.say(LI, "/profile 3/4")
    assert "/profile 3 2" in bad["text"]
    async with session_scope(bot.engine) as s:
        li = (await s.exec(select(Resident).where(Resident.external_id == LI))).one()
    assert (li.building, li.phone) == ("5", "+8613812345678")
    assert refused["text"] != kept["text"]
    await bot.say(LI, "/unsubscribe")
    async with session_scope(bot.engine) as s:
        li = (await s.exec(select(Resident).where(Resident.external_id == LI))).one()
    assert li.subscribed_at is None
