"""A whistle to 2,000 subscribers survives SIGKILL half-way: every message exactly once.

The real `yishi run` process (bot/cli.py) polls an emulator over loopback HTTP, as in
tests/e2e/test_process_restart.py. The whistle is queued in one transaction; the bot is
killed once about half of it has gone out and started again. The one sender marks each notice
sent right after Telegram accepts it, so only the one notice in flight at the kill may go twice.
To keep the run short the sender's overall rate is raised and its lease shortened (the emulator
enforces no limit here); flood control itself is measured by bench/whistle.py.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.telegram.emulator import Emulator, serve_in_background
from bot.telegram.emulator.bot_process import BotProcess, bot_env
from storage.db import create_engine, session_scope
from storage.models import OutboxMessage, Resident, utcnow
from storage.people import profiles, touch_resident
from storage.whistle.whistles import blow_whistle, delivery_counts
from tests.harness import TOKEN

pytestmark = pytest.mark.slow

SUBSCRIBERS = 2000
FIRST = 500_000
SECRETARY = 499_999
RATE = 400  # messages/s for this run only
# Notices the killed process had claimed but not attempted come back when their lease ends
# (60 s by default); a short lease keeps the test short and changes nothing else.
LEASE = 3
# Runs `yishi run` with the sender's default overall rate raised.
LAUNCH = (
    "import sys, datetime, bot.telegram.sender as o;"
    f"o.Sender.__init__.__kwdefaults__['overall_per_second'] = {RATE};"
    f"o.Sender.__init__.__kwdefaults__['lease'] = datetime.timedelta(seconds={LEASE});"
    "from bot.cli import main; sys.exit(main(['run']))"
)


async def _person(session: AsyncSession, chat: int, name: str) -> Resident:
    return await touch_resident(
        session, channel="telegram", external_id=str(chat), name=name, username=None,
        language_code="zh", default_language="zh",
    )  # fmt: skip


async def _whistle(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_scope(engine) as s:
            secretary = await _person(s, SECRETARY, "书记")
            now = utcnow()
            for chat in range(FIRST, FIRST + SUBSCRIBERS):
                subscriber = await _person(s, chat, f"居民{chat}")
                await profiles.subscribe(s, resident=subscriber, now=now)
            await s.flush()
            whistle = await blow_whistle(
                s,
                secretary=secretary,
                question="3号楼车库要不要加装充电桩？",
                options=["同意", "不同意"],
                audience={"groups": [], "subscribers": True, "buildings": []},
                deadline_at=now + timedelta(days=3),
            )
        assert whistle.id is not None
        return whistle.id
    finally:
        await engine.dispose()


def _sends(emu: Emulator) -> int:
    return sum(1 for method, _ in emu.calls if method == "sendMessage")


def _received(emu: Emulator) -> Counter[int]:
    return Counter(
        int(params["chat_id"]) for method, params in emu.calls if method == "sendMessage"
    )


async def _until(probe, timeout: float, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.1)):
        if await probe():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError((workdir / "bot.log").read_text()[-3000:])


async def test_killed_half_way_every_message_goes_once(database_url: str, tmp_path: Path) -> None:
    number = await _whistle(database_url)
    emu = Emulator(token=TOKEN, bot_username="yishi_bot", bot_first_name="Yishi")
    for chat in range(FIRST, FIRST + SUBSCRIBERS):
        emu.add_user(chat, f"居民{chat}", language_code="zh-hans")
    engine = create_engine(database_url)
    async with serve_in_background(emu) as base_url:
        env = bot_env(base_url, database_url, TOKEN)
        bot = BotProcess(emu, tmp_path, env, python=["-c", LAUNCH])
        try:
            await bot.start()

            async def half() -> bool:
                return _sends(emu) >= SUBSCRIBERS // 2

            await _until(half, 60, tmp_path)
            await bot.stop(hard=True)
            at_kill = _sends(emu)
            assert at_kill < SUBSCRIBERS, "killed too late to show anything"

            await bot.start()

            async def everyone() -> bool:
                return len(_received(emu)) == SUBSCRIBERS

            await _until(everyone, 60, tmp_path)
            assert (await bot.stop())["exit"] == 0
        finally:
            await bot.kill_if_running()
    received = _received(emu)
    async with session_scope(engine) as s:
        counts = await delivery_counts(s, whistle_id=number)
        pending = select(func.count()).where(OutboxMessage.status == "pending")
        assert (await s.exec(pending)).one() == 0
    await engine.dispose()
    assert set(received) == set(range(FIRST, FIRST + SUBSCRIBERS)), "nobody is left out"
    doubled = [chat for chat, times in received.items() if times > 1]
    assert len(doubled) <= 1, doubled  # at most the one in flight at the kill
    assert (counts.queued, counts.sent, counts.failed, counts.blocked) == (SUBSCRIBERS,) * 2 + (
        0,
        0,
    )
