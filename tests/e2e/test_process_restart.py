"""The real `yishi run` process, killed with SIGKILL between steps of a report, continues it.

The emulator serves over real loopback HTTP here, as it does for the sandbox.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from bot.emulator import Emulator, serve_in_background
from storage.db import create_engine, session_scope
from storage.models import Case
from tests.harness import TOKEN, WANG, make_emulator

pytestmark = pytest.mark.slow


class BotProcess:
    def __init__(self, base_url: str, database_url: str, workdir: Path) -> None:
        self.env = {
            **os.environ,
            "YISHI_TELEGRAM_TOKEN": TOKEN,
            "YISHI_TELEGRAM_API_URL": f"{base_url}/bot",
            "YISHI_DATABASE_URL": database_url,
        }
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, emu: Emulator) -> None:
        menus_before = sum(1 for method, _ in emu.calls if method == "setMyCommands")
        with open(self.workdir / "bot.log", "ab") as log:  # the child keeps its own copy
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                env=self.env,
                cwd=self.workdir,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        for _ in range(300):  # ready once it has published its command menu
            if sum(1 for method, _ in emu.calls if method == "setMyCommands") > menus_before:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError((self.workdir / "bot.log").read_text()[-3000:])

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def kill_if_running(self) -> None:
        """Never leave a bot behind: a stray one would poll and send for later tests."""
        if self.process is not None and self.process.returncode is None:
            await self.kill()

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 15)


async def _answer(emu: Emulator, after: int) -> dict:
    return await emu.wait_for_bot_message(WANG, after=after, timeout=15)


def _newest(emu: Emulator) -> int:
    messages = emu.bot_messages(WANG)
    return messages[-1]["message_id"] if messages else 0


def _button(emu: Emulator, label: str) -> tuple[int, str]:
    for message in reversed(emu.bot_messages(WANG)):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return message["message_id"], button["callback_data"]
    raise LookupError(label)


async def _walk_through_with_kills(emu: Emulator, bot: BotProcess) -> None:
    def press(label: str) -> None:
        message_id, data = _button(emu, label)
        emu.press(WANG, message_id, data=data)

    steps = [
        lambda: emu.send_text(WANG, "/report"),
        lambda: press("安全隐患"),
        lambda: emu.send_text(WANG, "地下车库的消防通道被堵住了"),
        lambda: press("跳过 ⏭"),
        lambda: emu.send_text(WANG, "地下车库B区"),
        lambda: press("匿名反映"),
        lambda: press("确认提交"),
    ]
    for step in steps:
        await bot.start(emu)
        seen = _newest(emu)
        step()
        await _answer(emu, seen)
        await asyncio.sleep(0.1)  # let it finish the reply it is sending, then kill it
        await bot.kill()
    await bot.start(emu)
    await asyncio.sleep(0.5)  # any unconfirmed update comes back now: it must change nothing
    assert await bot.stop() == 0


async def test_killed_between_steps_the_report_continues(database_url: str, tmp_path: Path):
    emu = make_emulator()
    async with serve_in_background(emu) as base_url:
        bot = BotProcess(base_url, database_url, tmp_path)
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
