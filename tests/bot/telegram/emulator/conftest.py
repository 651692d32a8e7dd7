"""Fixtures: an emulator with two residents and a group, and a real python-telegram-bot Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.telegram.emulator import Emulator

ALICE = 1001
BOB = 1002
GROUP = -1001234567890
BASE_URL = "http://emulator/bot"
BASE_FILE_URL = "http://emulator/file/bot"


def in_process_request(emu: Emulator) -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"transport": httpx.ASGITransport(app=emu.app)})


def make_bot(emu: Emulator, token: str | None = None) -> Bot:
    return Bot(
        token or emu.token,
        base_url=BASE_URL,
        base_file_url=BASE_FILE_URL,
        request=in_process_request(emu),
        get_updates_request=in_process_request(emu),
    )


@pytest.fixture
def emu() -> Emulator:
    emulator = Emulator(token="123456:TEST", bot_username="yishi_bot", bot_first_name="Yishi")
    emulator.add_user(ALICE, "Alice", username="alice_w")
    emulator.add_user(BOB, "Bob", last_name="Li")
    emulator.add_group(GROUP, "Block 7 residents", member_ids=[ALICE, BOB], admin_ids=[ALICE])
    return emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    async with make_bot(emu) as telegram_bot:
        yield telegram_bot
