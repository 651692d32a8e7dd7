"""A draft survives restarts; repeated updates and double presses file one case."""

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.telegram.sender import Sender
from handlers import conversation as common
from storage.db import session_scope
from storage.models import Case, OutboxMessage
from tests.harness import WANG, BotUnderTest, button_data, texts

STEPS = [
    ("say", "/report"),
    ("press", "物业服务"),
    ("say", "小区东门的门禁坏了一个星期"),
    ("photo", None),
    ("press", "完成 ✅"),
    ("say", "东门岗亭旁"),
    ("press", "向处理人员显示姓名"),
    ("press", "确认提交"),
]


async def _step(bot: BotUnderTest, kind: str, value: str | None) -> list[dict]:
    if kind == "say":
        return await bot.say(WANG, value)
    if kind == "press":
        return await bot.press(WANG, value)
    return await bot.send(WANG, "photo", data=b"door")


async def test_a_draft_survives_a_restart_between_every_two_steps(bot: BotUnderTest) -> None:
    for kind, value in STEPS:
        await bot.restart()
        replies = await _step(bot, kind, value)
        assert replies, f"no answer after restart at {kind} {value}"
    assert "#1" in texts(replies)[0]
    async with session_scope(bot.engine) as s:
        case = (await s.exec(select(Case))).one()
    assert case.text == "小区东门的门禁坏了一个星期"
    assert (case.address, len(case.photos), case.anonymous) == ("东门岗亭旁", 1, False)


async def test_confirm_pressed_twice_and_redelivered_files_one_case(bot: BotUnderTest) -> None:
    for kind, value in STEPS[:-1]:
        await _step(bot, kind, value)
    summary = bot.message_with_button(WANG, text="确认提交")
    data = button_data(summary, "确认提交")
    await bot.press(WANG, "确认提交", message=summary)
    confirm_update = bot.emu.updates()[-1]["update_id"]
    await bot.redeliver(confirm_update, WANG)  # Telegram delivers the same update again
    # a double tap: the second press left before the buttons were cleared
    await bot.press(WANG, data=data, message=summary, forged=True)
    assert bot.answers()[-1] == "已登记，编号 #1。"
    async with session_scope(bot.engine) as s:
        assert len((await s.exec(select(Case))).all()) == 1
    filed_notices = [t for t in texts(bot.emu.bot_messages(WANG)) if "已登记，编号 #1" in t]
    assert len(filed_notices) == 1


FILED = "您的反映已登记，编号 #1"


def _filed(message: dict) -> bool:
    return FILED in (message.get("text") or "")


async def test_a_confirmation_that_fails_right_after_the_commit_still_arrives(
    bot: BotUnderTest,
) -> None:
    """The confirmation is an outbox row committed with the case: a send refused right after
    the commit is made again by the sender instead of being lost."""
    for kind, value in STEPS[:-1]:
        await _step(bot, kind, value)
    bot.emu.fail_next("sendMessage", status=502, chat_id=WANG)
    await bot.press(WANG, "确认提交")
    await bot.emu.wait_for_bot_message(WANG, predicate=_filed, timeout=10)
    said = texts(bot.emu.bot_messages(WANG))
    assert [t for t in said if FILED in t or "抱歉" in t] == [said[-1]]


async def test_a_forced_exit_right_after_the_commit_loses_no_confirmation(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    for kind, value in STEPS[:-1]:
        await _step(bot, kind, value)

    async def killed(self: Sender, message: OutboxMessage) -> bool:
        return False  # the process dies between the commit and the reply

    monkeypatch.setattr(Sender, "deliver_now", killed)
    monkeypatch.setattr(common, "REPLY_LEASE", timedelta(seconds=1))
    assert not any(_filed(m) for m in await bot.press(WANG, "确认提交"))
    monkeypatch.undo()
    await bot.restart()
    await bot.emu.wait_for_bot_message(WANG, predicate=_filed, timeout=10)
    assert sum(_filed(m) for m in bot.emu.bot_messages(WANG)) == 1
