"""Bad input gets a polite answer in the resident's language, and the bot keeps serving."""

import pytest
from sqlmodel import select

from storage.db import session_scope
from storage.models import Case
from tests.harness import ALICE, LI, WANG, BotUnderTest, button_data, texts


async def at_description(bot: BotUnderTest, user: int = WANG) -> None:
    await bot.say(user, "/report")
    await bot.press(user, "安全隐患" if user != ALICE else "Safety hazard")


async def test_description_refusals_keep_the_step(bot: BotUnderTest) -> None:
    await at_description(bot)
    too_long = texts(await bot.say(WANG, "长" * 5000))[0]
    assert "5000" in too_long and "2000" in too_long
    assert "请再多写" in texts(await bot.say(WANG, "漏水"))[0]
    assert "表情" in texts(await bot.say(WANG, "😡😡😡"))[0]
    assert "描述是空的" in texts(await bot.say(WANG, "   "))[0]
    assert "只能读文字" in texts(await bot.send(WANG, "sticker"))[0]
    assert "只能读文字" in texts(await bot.send(WANG, "voice"))[0]
    # after all that, the draft is still waiting for its description
    assert "照片" in texts(await bot.say(WANG, "楼道灯坏了一周"))[0]


async def test_refusals_in_english_for_an_english_reader(bot: BotUnderTest) -> None:
    await at_description(bot, ALICE)
    assert "keep it under 2000" in texts(await bot.say(ALICE, "a" * 5000))[0]
    assert "in words" in texts(await bot.say(ALICE, "🔥🔥"))[0]


async def test_buttons_step_answers_text_with_the_question_again(bot: BotUnderTest) -> None:
    await bot.say(WANG, "/report")
    answer = await bot.say(WANG, "安全")
    assert texts(answer)[0] == "请使用下方的按钮。"
    assert "请选择问题类别" in texts(answer)[1]


async def test_forged_and_stale_buttons_are_refused(bot: BotUnderTest) -> None:
    await bot.say(WANG, "/report")
    old_menu = bot.message_with_button(WANG, text="安全隐患")
    await bot.say(WANG, "/report")  # a fresh draft: the first menu is now stale
    await bot.press(WANG, "安全隐患", message=old_menu)
    assert bot.answers()[-1] == "这个按钮已失效。请发送 /report 重新开始。"
    for forged in ("d1:99999:ok", "d1:abc", "garbage", "c1:view:1", "d1:1:cat:99999"):
        await bot.press(WANG, data=forged, forged=True)
        assert "失效" in bot.answers()[-1] or "找不到" in texts(bot.emu.bot_messages(WANG))[-1]
    # the live draft is untouched and continues
    assert "请描述问题" in texts(await bot.press(WANG, "安全隐患"))[0]


async def test_a_forged_button_cannot_confirm_someone_elses_draft(bot: BotUnderTest) -> None:
    await at_description(bot, WANG)
    await bot.say(WANG, "楼道灯坏了一周")
    await bot.press(WANG, "跳过 ⏭")
    await bot.say(WANG, "跳过 ⏭")
    await bot.press(WANG, "匿名反映")
    confirm = bot.message_with_button(WANG, text="确认提交")
    data = button_data(confirm, "确认提交")
    await bot.say(LI, "/start")  # Li presses the copied data on a message in his own chat
    await bot.press(LI, data=data, forged=True, chat=LI)
    assert "失效" in bot.answers()[-1]
    async with session_scope(bot.engine) as s:
        assert (await s.exec(select(Case))).first() is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/case abc", "“abc”不是案件编号"),
        # a number no case can have reads as not found (issue 15)
        ("/case 99999999999999999999", "找不到 #99999999999999999999"),
        ("/case 0", "找不到 #0"),
        ("/case -5", "不是案件编号"),
        ("/case", "要查哪个案件"),
        ("/case 42", "找不到 #42"),
        ("/frobnicate", "我不认识这个命令"),
    ],
)
async def test_malformed_commands(bot: BotUnderTest, command: str, expected: str) -> None:
    assert expected in texts(await bot.say(WANG, command))[0]


async def test_someone_elses_case_reads_as_missing(bot: BotUnderTest) -> None:
    await at_description(bot, LI)
    await bot.say(LI, "楼道灯坏了一周")
    await bot.press(LI, "跳过 ⏭", chat=LI)
    await bot.say(LI, "跳过 ⏭")
    await bot.press(LI, "匿名反映")
    await bot.press(LI, "确认提交")
    theirs = texts(await bot.say(WANG, "/case 1"))[0]
    missing = texts(await bot.say(WANG, "/case 2"))[0]
    assert theirs == missing.replace("#2", "#1")
    await bot.press(WANG, data="c1:view:1", forged=True)
    assert "找不到 #1" in texts(bot.emu.bot_messages(WANG))[-1]


async def test_a_failure_is_apologised_for_without_a_traceback(bot: BotUnderTest) -> None:
    bot.emu.fail_next("sendMessage", status=500, description="Internal Server Error", times=1)
    apology = texts(await bot.say(WANG, "/help"))
    assert apology == ["抱歉，我们这边出了点问题，请稍后再试。发送 /mycases 可查看已登记的案件。"]
    assert "我能做的" in texts(await bot.say(WANG, "/help"))[0]
    every = " ".join(texts(bot.emu.bot_messages(WANG)))
    assert "Traceback" not in every and "Error" not in every
