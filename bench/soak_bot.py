"""The soak test's bot and its troubles: the real `yishi run` process, and the fault injector.

The bot runs as `python -m bot.cli run` polling the emulator over loopback HTTP, as in
tests/e2e/test_process_restart.py; it is ready once it has published its command menu. The
injector makes Telegram unkind every few seconds (a 429 with retry_after, a 500 or 502, slow
answers for a while) and kills the process every few minutes, alternately with SIGTERM
(graceful: it must exit 0 within 10 s) and SIGKILL (hard), then starts it again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from starlette.requests import ClientDisconnect

from bench.soak_watch import Stats
from bot.telegram.emulator import Emulator
from bot.telegram.emulator.bot_process import BotProcess

SLOW_FOR = 10.0
SLOW_GAP = 40.0


class _CutOff(logging.Filter):
    """Counts, rather than prints, the emulator's requests a killed bot walked away from."""

    count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ClientDisconnect):
            self.count += 1
            return False
        return True


CUT_OFF = _CutOff()


async def inject_faults(emu: Emulator, stats: Stats, every: float) -> None:
    """Every `every` seconds (give or take half), one unkind answer from Telegram; a slow
    spell at most once in SLOW_GAP seconds (the sender sends one at a time, so while
    Telegram is slow it sends at 1/delay per second)."""
    slow_until = last_slow = 0.0
    while True:
        await asyncio.sleep(random.uniform(0.5, 1.5) * every)
        now = time.monotonic()
        if slow_until and now >= slow_until:
            emu.set_delay("sendMessage", 0)
            slow_until = 0.0
        kinds = ["429", "5xx"] + ([] if now - last_slow < SLOW_GAP else ["slow"])
        kind = random.choice(kinds)
        if kind == "429":
            emu.fail_next("sendMessage", status=429, retry_after=random.randint(1, 3))
        elif kind == "5xx":
            status = random.choice([500, 502])
            emu.fail_next("sendMessage", status=status)
            kind = str(status)
        else:
            emu.set_delay("sendMessage", round(random.uniform(0.5, 2.0), 2))
            slow_until = last_slow = now + SLOW_FOR
            kind = f"slow sendMessage ({SLOW_FOR:g} s)"
        stats.faults[kind] += 1


async def restart_now_and_then(
    bot: BotProcess, stats: Stats, every: float, done: asyncio.Event
) -> None:
    """Every `every` seconds until `done`, stop the bot (SIGTERM, then SIGKILL next time) and
    start it again; a restart under way when `done` is set is finished first."""
    hard = False
    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), every)
            return
        except TimeoutError:
            pass
        stopped = await bot.stop(hard=hard)
        stopped["ready after"] = await bot.start()
        stats.restarts.append(stopped)
        stats.faults[f"restart after {stopped['signal']}"] += 1
        hard = not hard
