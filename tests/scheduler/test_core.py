"""The scheduler is APScheduler's own, run in the bot's event loop beside the bot, and
scheduler/ knows no channel: its jobs get a JobContext and write outbox rows."""

from __future__ import annotations

import ast
import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from telegram.warnings import PTBUserWarning

from bot.config import load_settings
from bot.runtime import runtime
from bot.telegram.app import build_application
from scheduler.core import JobContext, Scheduler
from tests.harness import TOKEN, emulator_request, make_emulator

ROOT = Path(__file__).resolve().parents[2]
# The channel, the conversations (and the notices' words) and the bot's wiring: settings reach
# the jobs through scheduler.core.JobSettings, the sender through JobContext.wake, and a notice's
# params come from storage, worded only when the row is sent.
FORBIDDEN = ("telegram", "handlers", "bot")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add("." * node.level + node.module)
    return names


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_scheduler_imports_no_telegram_no_handlers_and_no_bot() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "scheduler").rglob("*.py"))
        for name in sorted(_imports(path))
        if _forbidden(name) or name.startswith(".")
    ]
    assert found == []


def test_importing_every_job_loads_no_telegram_no_handlers_and_no_bot() -> None:
    # Transitively: a job queues params from storage, and the words are put on them only when
    # the row is sent (handlers/notices.py), so nothing a job imports reaches a channel.
    code = (
        "import importlib, pkgutil, sys, scheduler\n"
        "for m in pkgutil.walk_packages(scheduler.__path__, 'scheduler.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.fixture
async def context() -> AsyncIterator[JobContext]:
    engine: AsyncEngine = create_async_engine("sqlite+aiosqlite://")  # never connected
    yield JobContext(engine=engine, settings=load_settings(timezone="Asia/Shanghai"))
    await engine.dispose()


async def test_a_started_scheduler_runs_its_jobs_in_the_running_loop(context: JobContext) -> None:
    seen: list[tuple[asyncio.AbstractEventLoop, JobContext]] = []
    ran = asyncio.Event()

    async def job(given: JobContext) -> None:
        seen.append((asyncio.get_running_loop(), given))
        ran.set()

    scheduler = Scheduler(context)
    scheduler.once(job, name="soon", after=timedelta(0))
    assert str(scheduler.job("soon").trigger.run_date.tzinfo) == "Asia/Shanghai"
    scheduler.start()
    await asyncio.wait_for(ran.wait(), 5)
    assert seen == [(asyncio.get_running_loop(), context)]
    assert not scheduler.has("soon")  # a one-off is gone once it ran
    await scheduler.stop()
    assert not scheduler.running


async def test_a_failing_job_is_logged_and_the_scheduler_goes_on(
    context: JobContext, caplog: pytest.LogCaptureFixture
) -> None:
    ran = asyncio.Event()

    async def fails(_: JobContext) -> None:
        raise ConnectionError("database away")

    async def works(_: JobContext) -> None:
        ran.set()

    scheduler = Scheduler(context)
    scheduler.once(fails, name="fails", after=timedelta(0))
    scheduler.once(works, name="works", after=timedelta(milliseconds=100))
    scheduler.start()
    await asyncio.wait_for(ran.wait(), 5)
    await scheduler.stop()
    failures = [r for r in caplog.records if r.name == "scheduler.core"]
    assert [(r.levelno, r.getMessage()) for r in failures] == [(logging.ERROR, "job fails failed")]


async def _stop_while_running(context: JobContext, needs: float, within: float) -> list[str]:
    """Stop the scheduler, with `within` seconds for the job running, which `needs` seconds."""
    began, done = asyncio.Event(), []

    async def slow(_: JobContext) -> None:
        began.set()
        await asyncio.sleep(needs)
        done.append("slow")

    scheduler = Scheduler(context)
    scheduler.once(slow, name="slow", after=timedelta(0))
    scheduler.every(slow, name="later", interval=timedelta(seconds=1), first=timedelta(seconds=1))
    scheduler.start()
    await asyncio.wait_for(began.wait(), 5)
    await scheduler.stop(within)
    assert not scheduler.running
    await asyncio.sleep(0.1)
    return done


async def test_a_stop_lets_the_running_job_finish(context: JobContext) -> None:
    began = time.monotonic()
    assert await _stop_while_running(context, needs=0.3, within=10) == ["slow"]
    assert time.monotonic() - began < 5


async def test_a_stop_cancels_the_running_job_after_its_budget(
    context: JobContext, caplog: pytest.LogCaptureFixture
) -> None:
    began = time.monotonic()
    assert await _stop_while_running(context, needs=60, within=0.2) == []
    assert time.monotonic() - began < 5
    assert "job slow cancelled: the bot is stopping" in caplog.messages


async def test_the_bot_starts_the_scheduler_when_it_runs_and_stops_it_when_it_stops(
    engine: AsyncEngine, database_url: str
) -> None:
    emu = make_emulator()
    settings = load_settings(
        telegram_token=TOKEN, telegram_api_url="http://emulator/bot", database_url=database_url
    )
    app = build_application(settings, engine, request=emulator_request(emu), polling=False)
    with pytest.warns(PTBUserWarning, match="No `JobQueue`"):
        assert app.job_queue is None  # not python-telegram-bot's
    scheduler = runtime(app.bot_data).scheduler
    assert scheduler is not None and not scheduler.running
    async with app:
        await app.start()
        assert app.post_init is not None and app.post_stop is not None
        await app.post_init(app)
        assert scheduler.running
        assert scheduler.context.engine is engine and scheduler.context.settings is settings
        await app.post_stop(app)
        assert not scheduler.running
        await app.stop()
