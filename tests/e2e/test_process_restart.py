"""The real `yishi run` process, killed with SIGKILL between steps of a report, continues it.

The emulator serves over real loopback HTTP here, as it does for the sandbox.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import select

from bot.telegram.emulator import Emulator, serve_in_background
from bot.telegram.emulator.bot_process import BotProcess, bot_env
from storage.db import create_engine, session_scope
from storage.models import Case
from tests.harness import TOKEN, WANG, find_button, make_emulator

pytestmark = pytest.mark.slow


async def _answer(emu: Emulator, after: int) -> dict:
    return await emu.wait_for_bot_message(WANG, after=after, timeout=15)


def _newest(emu: Emulator) -> int:
    messages = emu.bot_messages(WANG)
    return messages[-1]["message_id"] if messages else 0


async def _walk_through_with_kills(emu: Emulator, bot: BotProcess) -> None:
    def press(label: str) -> None:
        message_id, data = find_button(emu, WANG, label)
        emu.press(WANG, message_id, data=data)

    async def shown(label: str) -> None:
        """A reply may come in two messages, the second a second later (one message a second
        in a chat: bot/telegram/flood.py): the kill comes once the button the next step needs is
        there."""
        for _ in range(100):
            try:
                find_button(emu, WANG, label)
                return
            except LookupError:
                await asyncio.sleep(0.05)
        find_button(emu, WANG, label)  # raises, naming it

    steps = [
        (lambda: emu.send_text(WANG, "/report"), "安全隐患"),
        (lambda: press("安全隐患"), None),
        (lambda: emu.send_text(WANG, "地下车库的消防通道被堵住了"), "跳过 ⏭"),
        (lambda: press("跳过 ⏭"), None),
        (lambda: emu.send_text(WANG, "地下车库B区"), "匿名反映"),
        (lambda: press("匿名反映"), "确认提交"),
        (lambda: press("确认提交"), None),
    ]
    for step, next_label in steps:
        await bot.start()
        seen = _newest(emu)
        step()
        await _answer(emu, seen)
        if next_label is not None:
            await shown(next_label)
        await asyncio.sleep(0.1)  # let it finish the reply it is sending, then kill it
        await bot.stop(hard=True)
    await bot.start()
    await asyncio.sleep(0.5)  # any unconfirmed update comes back now: it must change nothing
    assert (await bot.stop())["exit"] == 0


async def test_killed_between_steps_the_report_continues(database_url: str, tmp_path: Path):
    emu = make_emulator()
    async with serve_in_background(emu) as base_url:
        bot = BotProcess(emu, tmp_path, bot_env(base_url, database_url, TOKEN))
        try:
            await _walk_through_with_kills(emu, bot)
        finally:
            await bot.kill_if_running()
    filed = [m["text"] for m in emu.bot_messages(WANG) if "已登记，编号" in m.get("text", "")]
    assert len(filed) == 1 and "#1" in filed[0]
    engine = create_engine(database_url)
    async with session_scope(engine) as s:
        cases = (await s.exec(select(Case))).all()
    await engine.dispose()
    assert [(c.text, c.address, c.anonymous) for c in cases] == [
        ("地下车库的消防通道被堵住了", "地下车库B区", True)
    ]
