"""The whole life of a case with several actors, through the emulator and the outbox."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.telegram.emulator import Emulator
from storage import outbox, people
from storage.cases import routing
from storage.db import session_scope
from storage.models import Case
from storage.people.roles import Role, grant
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest, button_data, buttons, texts

STAFF, SECRETARY = LI, ZHAO


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """Zhao is a secretary (YISHI_ADMINS); Li is staff of the street safety office."""
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for user in (WANG, LI, ZHAO, ALICE):
        await under_test.say(user, "/start")
    async with session_scope(under_test.engine) as s:
        li = await people.find_resident(s, channel="telegram", external_id=str(STAFF))
        safety = await routing.unit_by_code(s, "safety")
        await grant(s, resident=li, role=Role.STAFF, unit_id=safety.id)
    yield under_test
    await under_test.stop()


async def notice(bot: BotUnderTest, chat: int, contains: str) -> dict:
    """Wait for the sender to deliver a notice containing `contains` to `chat`."""
    bot.sender.wake()
    return await bot.emu.wait_for_bot_message(
        chat,
        predicate=lambda m: contains in (m.get("text") or m.get("caption") or ""),
        timeout=5,
    )


async def file_report(bot: BotUnderTest, user: int = WANG, category: str = "安全隐患") -> int:
    await bot.say(user, "/report")
    await bot.press(user, category)
    await bot.say(user, "5号楼消防通道被电动车堵住了")
    await bot.press(user, "跳过 ⏭")
    await bot.say(user, "5号楼一单元")
    await bot.press(user, "向处理人员显示姓名")
    filed = texts(await bot.press(user, "确认提交"))[0]
    return int(filed.split("#")[1].split("。")[0])


async def press_on(bot: BotUnderTest, user: int, message: dict, label: str) -> list[dict]:
    return await bot.press(user, data=button_data(message, label), message=message, forged=True)


async def test_report_assign_accept_progress_resolve_confirm_rate(bot: BotUnderTest) -> None:
    number = await file_report(bot)
    assigned = await notice(bot, STAFF, f"案件 #{number}")
    assert "5号楼消防通道" in assigned["text"] and "反映人：王 芳" in assigned["text"]

    reply = texts(await press_on(bot, STAFF, assigned, "受理"))[0]
    assert f"#{number}" in reply
    await notice(bot, WANG, "已受理")

    await press_on(bot, STAFF, assigned, "添加进展")
    await bot.say(STAFF, "已通知物业今天下午清理")
    progress = await notice(bot, WANG, "已通知物业今天下午清理")
    assert f"#{number}" in progress["text"]

    await press_on(bot, STAFF, assigned, "已解决")
    await bot.send(STAFF, "photo", caption="电动车已全部移走", data=b"after")
    after = bot.last["photo"][-1]
    resolved = await notice(bot, WANG, "电动车已全部移走")
    assert resolved.get("photo"), "the resolution photo reaches the reporter"
    assert resolved["photo"][-1]["file_unique_id"] == after["file_unique_id"]  # the same file

    thanks = await press_on(bot, WANG, resolved, "是，已解决")
    await bot.press(WANG, "⭐⭐⭐⭐")
    assert "评价" in texts(bot.emu.bot_messages(WANG))[-1]
    async with session_scope(bot.engine) as s:
        case = await s.get(Case, number)
    assert (case.status, case.satisfaction) == ("closed", 4)
    assert "已办结" in texts(thanks)[0] or "关闭" in texts(thanks)[0]
    timeline = texts(await bot.say(WANG, f"/case {number}"))[0]
    assert "已通知物业今天下午清理" in timeline and "已办结" in timeline


async def test_not_fixed_reopens_and_follow_up_reaches_the_handler(bot: BotUnderTest) -> None:
    number = await file_report(bot)
    assigned = await notice(bot, STAFF, f"案件 #{number}")
    await press_on(bot, STAFF, assigned, "已解决")
    await bot.say(STAFF, "已经移走了")
    resolved = await notice(bot, WANG, "已经移走了")
    await press_on(bot, WANG, resolved, "否，没解决")
    await bot.say(WANG, "今天又堵上了")
    reopened = await notice(bot, STAFF, "今天又堵上了")
    assert f"#{number}" in reopened["text"]
    # a reply to one of our notices about the case is passed on as a follow-up
    bot.emu.send_text(WANG, "晚上八点以后最严重", reply_to_message_id=resolved["message_id"])
    bot.expected += 1
    await bot.settle()
    await notice(bot, STAFF, "晚上八点以后最严重")


async def test_secretary_paths_reject_duplicate_not_ours_queue(bot: BotUnderTest) -> None:
    first = await file_report(bot)
    second = await file_report(bot)
    third = await file_report(bot, category="其他")
    assert f"#{third}" in texts(await bot.say(SECRETARY, "/queue"))[0]
    await bot.say(SECRETARY, f"/duplicate {second} {first}")
    await notice(bot, WANG, f"与案件 #{first}")
    await bot.say(SECRETARY, f"/reject {third} 属于市政道路 | 区市政管理所")
    rejected = await notice(bot, WANG, "属于市政道路")
    assert "区市政管理所" in rejected["text"]

    assigned = await notice(bot, STAFF, f"案件 #{first}")
    await press_on(bot, STAFF, assigned, "不归我们")
    await bot.say(STAFF, "这是物业的事")
    returned = await notice(bot, SECRETARY, "这是物业的事")
    assert f"#{first}" in returned["text"]
    assert f"#{first}" in texts(await bot.say(SECRETARY, "/queue"))[0]
    assert "已分派" in texts(await bot.say(SECRETARY, f"/assign {first} property"))[0]


async def test_group_case_goes_to_triage(bot: BotUnderTest) -> None:
    await bot.say(ALICE, "#report The gym bench is broken", chat=GROUP)
    assert "#1" in texts(await bot.say(SECRETARY, "/queue"))[0]


async def test_staff_sees_internal_timeline_but_not_an_anonymous_name(bot: BotUnderTest):
    await bot.say(WANG, "/report")
    await bot.press(WANG, "安全隐患")
    await bot.say(WANG, "楼顶有人私拉电线很危险")
    await bot.press(WANG, "跳过 ⏭")
    await bot.say(WANG, "跳过 ⏭")
    await bot.press(WANG, "匿名反映")
    await bot.press(WANG, "确认提交")
    assigned = await notice(bot, STAFF, "楼顶有人私拉电线")
    assert "匿名反映" in assigned["text"] and "王" not in assigned["text"]
    await bot.say(STAFF, "/note 1 已联系电工")
    staff_view = texts(await bot.say(STAFF, "/case 1"))[0]
    assert "已联系电工" in staff_view and "（内部）" in staff_view and "王 芳" not in staff_view
    secretary_view = texts(await bot.say(SECRETARY, "/case 1"))[0]
    assert "王 芳" in secretary_view
    resident_view = texts(await bot.say(WANG, "/case 1"))[0]
    assert "已联系电工" not in resident_view
    assert "#1" in texts(await bot.say(STAFF, "/todo"))[0]


async def outbox_settled(bot: BotUnderTest, timeout: float = 5.0) -> None:
    """Wait until the sender has dealt with every queued notice (sent, failed or blocked)."""
    bot.sender.wake()
    async with asyncio.timeout(timeout):
        while True:
            async with session_scope(bot.engine) as s:
                if not (await outbox.backlog(s))[outbox.Status.PENDING]:
                    return
            await asyncio.sleep(0.02)


async def test_a_long_resolution_with_a_photo_reaches_the_reporter_in_full(bot: BotUnderTest):
    """Issue 15, defect 2: a 1,000-character note under a photo makes the English notice longer
    than Telegram's 1,024-character caption; the reporter gets the photo, then all the words
    with the Yes/No buttons."""
    await bot.say(ALICE, "/report")
    await bot.press(ALICE, "Safety hazard")
    await bot.say(ALICE, "Bikes block the fire exit of building five")
    await bot.press(ALICE, "Skip ⏭")
    await bot.say(ALICE, "Building five")
    await bot.press(ALICE, "Show my name to staff")
    filed = texts(await bot.press(ALICE, "Confirm and submit"))[0]
    number = int(filed.split("#")[1].split(" ")[0].rstrip("."))
    assigned = await notice(bot, STAFF, f"案件 #{number}")
    await press_on(bot, STAFF, assigned, "已解决")
    note = ("Every bike was moved and the fire exit is clear again. " * 20)[:1000].strip()
    before = len(bot.emu.bot_messages(ALICE))
    await bot.send(STAFF, "photo", caption=note, data=b"after")
    await outbox_settled(bot)
    photo, words = bot.emu.bot_messages(ALICE)[before:]
    assert photo.get("photo") and "caption" not in photo
    assert words["text"] == f"Your case #{number} is resolved: {note}\n\nIs it fixed?"
    assert buttons(words) == ["Yes, fixed", "No, not fixed"]
    await press_on(bot, ALICE, words, "Yes, fixed")
    async with session_scope(bot.engine) as s:
        case = await s.get(Case, number)
    assert case is not None and case.status == "closed"


async def test_a_notice_telegram_refuses_reaches_the_secretaries_as_a_failure(bot: BotUnderTest):
    """Issue 15, defect 2: a notice that fails for good (400) is reported to the secretaries,
    with the case, the recipient's name and the reason, instead of vanishing into the log."""
    bot.emu.fail_next(
        "sendMessage", status=400, description="Bad Request: message is too long", chat_id=STAFF
    )
    number = await file_report(bot)
    await outbox_settled(bot)
    assert not [m for m in bot.emu.bot_messages(STAFF) if f"#{number}" in (m.get("text") or "")]
    failure = await notice(bot, SECRETARY, "未能送达")
    assert failure["text"] == (
        f"⚠️ 一条关于案件 #{number} 的通知未能送达李 强：Telegram 拒绝发送"
        "（Message is too long）。请用其他方式告知对方。"
    )


async def test_a_case_longer_than_one_message_is_shown_in_several(bot: BotUnderTest) -> None:
    """Five follow-ups of 1,000 characters make a timeline over Telegram's 4,096: /case sends
    it in parts cut at line breaks, all of it, with the buttons under the last part."""
    number = await file_report(bot)
    notes = [f"补充{n}：" + "楼道里又堆了杂物" * 124 for n in range(5)]  # 995 characters each
    for note in notes:
        await bot.press(WANG, data=f"f1:{number}", forged=True)
        await bot.say(WANG, note)
    shown = await bot.say(WANG, f"/case {number}")
    assert len(shown) == 2
    assert all(len(text) <= 4096 for text in texts(shown))
    whole = "\n".join(texts(shown))
    assert all(note in whole for note in notes)
    assert [bool(buttons(m)) for m in shown] == [False, True]
