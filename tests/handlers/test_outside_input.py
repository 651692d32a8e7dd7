"""Ids from outside that no row can have (issue 15, defect 4): an id of 2³¹ or more is answered
as one that names nothing, on SQLite and PostgreSQL alike (asyncpg refuses it as "value out of
int32 range" if it reaches a query)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.telegram.emulator import Emulator
from storage.db import session_scope
from storage.models import ReportDraft
from tests.harness import WANG, ZHAO, BotUnderTest, texts

BEYOND = 9_999_999_999  # > 2**31 - 1, the databases' id range
EXPIRED = "这个按钮已失效。"


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(emu, database_url, admins=frozenset({ZHAO}))
    await under_test.start()
    yield under_test
    await under_test.stop()


async def test_a_category_beyond_the_id_range_reads_as_not_found(bot: BotUnderTest) -> None:
    await bot.say(WANG, "/report")
    menu = bot.message_with_button(WANG, text="安全隐患")
    async with session_scope(bot.engine) as s:
        draft = (await s.exec(select(ReportDraft.id))).one()
    await bot.press(WANG, data=f"d1:{draft}:cat:{BEYOND}", message=menu, forged=True)
    assert bot.answers()[-1] == "这个按钮已失效。请发送 /report 重新开始。"
    assert "请描述问题" in texts(await bot.press(WANG, "安全隐患", message=menu))[0]


@pytest.mark.parametrize("data", [f"w1:a:{BEYOND}:1", f"w1:op:{BEYOND}"])
async def test_a_whistle_beyond_the_id_range_reads_as_not_found(
    bot: BotUnderTest, data: str
) -> None:
    await bot.say(WANG, "/start")
    await bot.press(WANG, data=data, forged=True)
    assert bot.answers()[-1] == EXPIRED


async def test_opinions_on_a_whistle_beyond_the_id_range(bot: BotUnderTest) -> None:
    assert texts(await bot.say(ZHAO, f"/opinions {BEYOND}")) == ["找不到这次征求意见。"]
