"""Presses on a case's buttons are checked against the case first: a rating counts once, and a
button whose action the case's status no longer allows says so at once, asks for nothing and
takes the spent buttons off its message. Wang reports, Li (staff) handles, Zhao is secretary."""

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from storage.db import session_scope
from storage.models import Case, CaseEvent, PendingInput
from tests.handlers.cases.test_case_life import (  # noqa: F401  (bot: the case-life fixture)
    SECRETARY,
    STAFF,
    bot,
    file_report,
    notice,
    press_on,
)
from tests.harness import WANG, BotUnderTest, buttons, texts

FIVE, ONE = "⭐⭐⭐⭐⭐", "⭐"


def now_showing(bot: BotUnderTest, chat: int, message: dict[str, Any]) -> dict[str, Any]:
    """The message as the chat shows it now (after any edits)."""
    return next(m for m in bot.emu.bot_messages(chat) if m["message_id"] == message["message_id"])


async def resolved_case(bot: BotUnderTest) -> tuple[int, dict, dict]:
    """A case Li resolved: (number, Li's notice with the case buttons, Wang's "is it fixed?")."""
    number = await file_report(bot)
    assigned = await notice(bot, STAFF, f"案件 #{number}")
    await press_on(bot, STAFF, assigned, "已解决")
    await bot.say(STAFF, "电动车已经移走了")
    return number, assigned, await notice(bot, WANG, "电动车已经移走了")


async def footprint(bot: BotUnderTest) -> tuple[int, int]:
    """(case events, pending inputs): a refused press changes neither."""
    async with session_scope(bot.engine) as s:
        events = (await s.exec(select(func.count()).select_from(CaseEvent))).one()
        pending = (await s.exec(select(func.count()).select_from(PendingInput))).one()
    return events, pending


async def test_a_case_is_rated_once_and_its_stars_go(bot: BotUnderTest) -> None:
    """Yes, 5 stars, 5 stars again at once, later 1 star on the same message: the first counts."""
    number, _assigned, resolved = await resolved_case(bot)
    await press_on(bot, WANG, resolved, "是，已解决")
    stars = bot.message_with_button(WANG, text=FIVE)
    thanks = texts(await bot.press(WANG, FIVE, message=stars))
    assert thanks == [f"感谢您对案件 #{number} 的评价。"]
    for label in (FIVE, ONE):  # a quick second press, a later change of mind
        assert texts(await press_on(bot, WANG, stars, label)) == []
        assert bot.answers()[-1] == "您已评价 5 星"
    assert buttons(now_showing(bot, WANG, stars)) == []
    said = texts(bot.emu.bot_messages(WANG))
    assert sum("感谢您对案件" in text for text in said) == 1

    timeline = texts(await bot.say(WANG, f"/case {number}"))[0]
    assert [line.split(" ", 3)[-1] for line in timeline.splitlines() if "已评价" in line] == [
        "已评价（1-5 星）: 5"
    ]
    figures = texts(await bot.say(SECRETARY, "/stats"))[0]
    assert "满意度：5.0 分（满分 5 分，共 1 条评价）" in figures.splitlines()
    async with session_scope(bot.engine) as s:
        assert (await s.get(Case, number)).satisfaction == 5  # type: ignore[union-attr]


async def test_asking_buttons_on_a_closed_case_answer_at_once(bot: BotUnderTest) -> None:
    """Add progress / Resolved / Not ours on a closed case: its status, no question, no row."""
    number, assigned, resolved = await resolved_case(bot)
    await press_on(bot, WANG, resolved, "是，已解决")
    before = await footprint(bot)
    for label in ("已解决", "添加进展", "不归我们"):
        assert texts(await press_on(bot, STAFF, assigned, label)) == [], label
        assert bot.answers()[-1] == f"案件 #{number} 已办结", label
    assert await footprint(bot) == before
    assert buttons(now_showing(bot, STAFF, assigned)) == []
    # the reporter's own stale "not fixed" on the closed case: the same
    assert texts(await press_on(bot, WANG, resolved, "否，没解决")) == []
    assert bot.answers()[-1] == f"案件 #{number} 已办结"
    assert await footprint(bot) == before
    assert buttons(now_showing(bot, WANG, resolved)) == []


async def test_accept_twice_keeps_the_buttons_that_still_work(bot: BotUnderTest) -> None:
    number = await file_report(bot)
    assigned = await notice(bot, STAFF, f"案件 #{number}")
    await press_on(bot, STAFF, assigned, "受理")
    before = await footprint(bot)
    assert texts(await press_on(bot, STAFF, assigned, "受理")) == []
    assert bot.answers()[-1] == f"案件 #{number} 已受理"
    assert await footprint(bot) == before
    assert buttons(now_showing(bot, STAFF, assigned)) == ["添加进展", "已解决", "不归我们"]


async def test_a_note_typed_after_the_case_moved_on_names_its_status(bot: BotUnderTest) -> None:
    number = await file_report(bot)
    assigned = await notice(bot, STAFF, f"案件 #{number}")
    await press_on(bot, STAFF, assigned, "已解决")  # asked for the note; meanwhile ...
    await bot.say(SECRETARY, f"/reject {number} 不属实")
    assert texts(await bot.say(STAFF, "已处理")) == [f"案件 #{number} 不予受理"]
    async with session_scope(bot.engine) as s:
        assert (await s.get(Case, number)).status == "rejected"  # type: ignore[union-attr]
