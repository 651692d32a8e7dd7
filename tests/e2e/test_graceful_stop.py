"""SIGTERM on a `yishi run --webhook` process: the update in flight finishes, nothing is lost.

Telegram (the emulator) answers sendMessage slowly, so the bot is mid-reply when the signal
comes. The stop waits for that reply, refuses the next update with 503 (Telegram keeps it and
tries again), and exits 0 well inside 10 s; the refused update is answered after the restart.
A second SIGTERM ends the process at once, and the update it was handling comes back too.
The stop does not depend on the database, so this runs on SQLite only.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.telegram.emulator import Emulator, serve_in_background
from bot.telegram.emulator.bot_process import BotProcess, bot_env
from tests.harness import LI, TOKEN, WANG, make_emulator

pytestmark = pytest.mark.slow

SECRET = "graceful-stop-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def running(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Emulator, BotProcess]]:
    """The emulator on loopback and one started `yishi run --webhook` posting to it."""
    if database_url.startswith("postgresql"):
        pytest.skip("the stop does not depend on the database")
    emu = make_emulator()
    async with serve_in_background(emu) as emu_url:
        listen = f"127.0.0.1:{_free_port()}"
        env = bot_env(emu_url, database_url, TOKEN, webhook_secret=SECRET)
        args = ["--webhook", "--url", f"http://{listen}/telegram", "--listen", listen]
        bot = BotProcess(emu, tmp_path, env, args=args, health_url=f"http://{listen}/healthz")
        try:
            await bot.start()
            yield emu, bot
        finally:
            await bot.kill_if_running()


async def _until_sending_to(emu: Emulator, chat: int, calls_before: int) -> None:
    """Until the bot has called sendMessage for `chat` (the emulator then holds it)."""
    for _ in range(200):
        if any(
            method == "sendMessage" and str(params.get("chat_id")) == str(chat)
            for method, params in emu.calls[calls_before:]
        ):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the bot never replied to {chat}")


def _replies(emu: Emulator, chat: int) -> int:
    return len(emu.bot_messages(chat))


async def test_sigterm_finishes_the_update_in_flight_and_loses_nothing(running):
    emu, bot = running
    emu.set_delay("sendMessage", 2.0)
    calls = len(emu.calls)
    emu.send_text(WANG, "/start")
    await _until_sending_to(emu, WANG, calls)
    began = time.monotonic()
    bot.signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    emu.send_text(LI, "/start")  # arrives while stopping: refused, kept by Telegram
    stopped = await bot.exited()
    elapsed = time.monotonic() - began
    assert _replies(emu, WANG) == 1  # the reply in flight was finished
    assert _replies(emu, LI) == 0
    emu.set_delay("sendMessage", 0)
    await bot.start()
    await emu.wait_for_bot_message(LI, timeout=15)
    await asyncio.sleep(0.5)
    again = await bot.stop()
    assert stopped["exit"] == 0 and not stopped["forced"]
    assert 1.5 < elapsed < 10  # it waited for the slow reply, and not for ever
    assert again["exit"] == 0
    assert (_replies(emu, WANG), _replies(emu, LI)) == (1, 1)
    refused = [d for d in emu.webhook_deliveries if d["status"] == 503]
    assert refused, "the update that came during the stop was refused, not dropped"


async def test_a_second_sigterm_exits_at_once_and_the_update_comes_back(running):
    """Forced, the process cannot finish the update: Telegram never got its answer, so the
    update is posted again to the next process, which takes it (its ledger then knows it)."""
    emu, bot = running
    emu.set_delay("sendMessage", 3.0)  # the reply hangs past the second signal
    calls = len(emu.calls)
    emu.send_text(WANG, "/help")
    help_update = emu.updates()[-1]["update_id"]
    await _until_sending_to(emu, WANG, calls)
    bot.signal(signal.SIGTERM)
    await asyncio.sleep(0.5)
    began = time.monotonic()
    bot.signal(signal.SIGTERM)
    forced = await bot.exited()
    elapsed = time.monotonic() - began
    emu.set_delay("sendMessage", 0)
    await bot.start()
    for _ in range(100):
        if _answered(emu, help_update):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(3)  # the cut-off sendMessage ends in the emulator meanwhile
    await bot.stop()
    assert forced["exit"] == 1 and not forced["forced"]
    assert elapsed < 1.5
    outcomes = [d["status"] for d in emu.webhook_deliveries if d["update_id"] == help_update]
    assert outcomes[0] != 200 and outcomes[-1] == 200, outcomes


def _answered(emu: Emulator, update_id: int) -> bool:
    return any(d["update_id"] == update_id and d["status"] == 200 for d in emu.webhook_deliveries)
