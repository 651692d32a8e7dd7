from collections.abc import AsyncIterator

import pytest

from bot.telegram.emulator import Emulator
from tests.harness import BotUnderTest, make_emulator


@pytest.fixture
def emu() -> Emulator:
    return make_emulator()


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(emu, database_url)
    await under_test.start()
    yield under_test
    await under_test.stop()
