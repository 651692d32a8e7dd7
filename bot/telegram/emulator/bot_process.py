"""The real `yishi run` in a child process, talking to an emulator served on loopback.

For the end-to-end tests and the benchmarks that need a whole process: to kill it, to run two
side by side, or to measure it without the test's own event loop in the way. It is ready once
it has published its command menu (polling) or once its /healthz says ok (with --listen).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from .emulator import Emulator

GRACE = 10.0  # seconds a SIGTERM'd bot has to exit (bot/telegram/runner.py STOP_WITHIN)


def bot_env(emulator_url: str, database_url: str, token: str, **more: str) -> dict[str, str]:
    """The settings of a bot that talks to the emulator at `emulator_url`; `more` adds
    YISHI_* variables (webhook_secret="..." -> YISHI_WEBHOOK_SECRET)."""
    env = {
        "YISHI_TELEGRAM_TOKEN": token,
        "YISHI_TELEGRAM_API_URL": f"{emulator_url}/bot",
        "YISHI_DATABASE_URL": database_url,
    }
    return env | {f"YISHI_{name.upper()}": value for name, value in more.items()}


class BotProcess:
    def __init__(
        self,
        emu: Emulator,
        workdir: Path,
        env: dict[str, str],
        *,
        args: Sequence[str] = (),
        health_url: str | None = None,
        name: str = "bot",
        python: Sequence[str] = ("-m", "bot.cli", "run"),
    ) -> None:
        """`env` holds the YISHI_* settings; `args` go after `yishi run`; `health_url` is the
        /healthz of its --listen, if any; `python` is what the interpreter runs (a test may run
        `-c` code that adjusts a default first)."""
        self.emu = emu
        self.env = {**os.environ, **env}
        self.command = [*python, *args]
        self.health_url = health_url
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self._calls_seen = 0

    def _menus_published(self) -> int:
        calls = self.emu.world.calls  # read in place: copying a long list every tick is costly
        count = sum(1 for method, _ in calls[self._calls_seen :] if method == "setMyCommands")
        self._calls_seen = len(calls)
        return count

    async def _healthy(self) -> bool:
        assert self.health_url is not None
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(self.health_url)).status_code == 200
        except httpx.HTTPError:
            return False

    async def start(self, timeout: float = 60.0) -> float:
        """Start the bot; seconds until it is ready."""
        started = time.monotonic()
        self._menus_published()
        with open(self.log, "ab") as log:  # the child keeps its own copy
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, *self.command, env=self.env,
                cwd=self.workdir, stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        published = False
        while time.monotonic() - started < timeout:
            published = published or self._menus_published() > 0
            if published and (self.health_url is None or await self._healthy()):
                return time.monotonic() - started
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the bot did not start:\n{self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def stop(self, hard: bool = False) -> dict[str, Any]:
        """SIGTERM (or SIGKILL) and wait; see `exited`."""
        self.signal(signal.SIGKILL if hard else signal.SIGTERM)
        return {"signal": "SIGKILL" if hard else "SIGTERM"} | await self.exited()

    async def exited(self) -> dict[str, Any]:
        """Wait for the process to end; one still running after the grace is killed. Its exit
        code, the seconds waited, and whether it had to be killed."""
        assert self.process is not None
        started = time.monotonic()
        forced = False
        try:
            code = await asyncio.wait_for(self.process.wait(), GRACE + 5)
        except TimeoutError:
            forced = True
            self.process.kill()
            code = await self.process.wait()
        return {"exit": code, "seconds": time.monotonic() - started, "forced": forced}

    async def kill_if_running(self) -> None:
        """Never leave a bot behind: a stray one would poll and send for later tests."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
