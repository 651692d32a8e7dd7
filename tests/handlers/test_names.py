"""A person whose channel sends no usable name is still called something, never "anonymous".

Telegram always sends a first name today, but other channels (and a name of only spaces or
invisible characters) may not: the username stands in, else "居民3456" ("Resident 3456") from the
last four digits of the id, in the person's own language.
"""

from collections.abc import AsyncIterator

import pytest

from bot.telegram.emulator import Emulator
from tests.harness import ALICE, GROUP, BotUnderTest, texts

NAMELESS, HANDLE_ONLY = 7700123456, 7700654321


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    emu.add_user(NAMELESS, "", language_code="zh-hans")
    emu.add_user(HANDLE_ONLY, " \u3164 ", username="lao_wang", language_code="en")
    under_test = BotUnderTest(emu, database_url, admins=frozenset({ALICE}))
    await under_test.start()
    yield under_test
    await under_test.stop()


async def test_a_person_without_a_name_is_greeted_and_shown_by_a_stand_in(bot: BotUnderTest):
    greeting = texts(await bot.say(NAMELESS, "/start"))[0]
    assert greeting.startswith("居民3456，您好！")
    assert texts(await bot.say(HANDLE_ONLY, "/start"))[0].startswith("Hello lao_wang!")
    assert "#1" in texts(await bot.say(NAMELESS, "#反映 三号楼路灯坏了", chat=GROUP))[0]
    assert "#2" in texts(await bot.say(HANDLE_ONLY, "#report The gate is broken", chat=GROUP))[0]
    # the stand-in is the person's own name, the same to every reader
    assert "Reported by: 居民3456" in texts(await bot.say(ALICE, "/case 1"))[0]
    assert "Reported by: lao_wang" in texts(await bot.say(ALICE, "/case 2"))[0]
