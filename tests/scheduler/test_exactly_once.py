"""The monthly digest posts once per group and month: fired twice, fired by the catch-up after a
restart that missed its time, and fired by two processes on the same database at once."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.config import load_settings
from bot.runtime import runtime
from bot.telegram.app import build_application
from storage.db import session_scope
from storage.ledger import was_claimed
from storage.models import OutboxMessage
from tests.conftest import PG_URL
from tests.scheduler.test_digests import november

TZ = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]
GROUPS = 3  # november() registers three groups


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


async def posted(engine: AsyncEngine, period: str) -> list[OutboxMessage]:
    async with session_scope(engine) as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == "digest")
        rows = (await s.exec(query.order_by(col(OutboxMessage.id)))).all()
    return [r for r in rows if r.params["cadence"] == "monthly" and r.params["period"] == period]


class Bot:
    """One run of the bot process: its scheduler and a way to fire its jobs at `now`."""

    def __init__(self, engine: AsyncEngine) -> None:
        app = build_application(load_settings(telegram_token="123:abc"), engine)
        scheduler = runtime(app.bot_data).scheduler
        assert scheduler is not None
        self.scheduler = scheduler

    async def fire(self, name: str, now: datetime) -> None:
        with patch("scheduler.cron.utcnow", return_value=now):
            await self.scheduler.fire(name)


async def test_fired_twice_for_the_same_period_it_posts_once(engine: AsyncEngine) -> None:
    await november(engine)
    bot = Bot(engine)
    await bot.fire("monthly-digest", local(2026, 12, 1, 9))
    await bot.fire("monthly-digest", local(2026, 12, 1, 9))
    await bot.fire("monthly-digest-catch-up", local(2026, 12, 1, 9, 5))
    assert len(await posted(engine, "2026-11")) == GROUPS


async def test_after_a_restart_that_missed_its_time_the_catch_up_posts_once(
    engine: AsyncEngine,
) -> None:
    await november(engine)
    before = Bot(engine)  # running in November: October's digest went out then
    await before.fire("monthly-digest", local(2026, 11, 1, 9))
    assert len(await posted(engine, "2026-10")) == GROUPS
    # down from 30 November to 3 December: the run of 1 December 09:00 never happened
    after = Bot(engine)
    await after.fire("monthly-digest-catch-up", local(2026, 12, 3, 10, 2))
    assert len(await posted(engine, "2026-11")) == GROUPS
    again = Bot(engine)  # and restarted once more the same day
    await again.fire("monthly-digest-catch-up", local(2026, 12, 3, 11, 2))
    await again.fire("monthly-digest", local(2026, 12, 3, 11, 30))  # a retry, say
    await again.fire("weekly-digest-catch-up", local(2026, 12, 3, 11, 2))
    assert len(await posted(engine, "2026-11")) == GROUPS
    assert len(await posted(engine, "2026-10")) == GROUPS


async def test_a_failed_run_is_retried_later_and_still_posts_once(engine: AsyncEngine) -> None:
    await november(engine)
    bot = Bot(engine)
    with patch("scheduler.digests.compile_digest", side_effect=ConnectionError("db away")):
        await bot.fire("monthly-digest", local(2026, 12, 1, 9))
    assert await posted(engine, "2026-11") == []
    async with session_scope(engine) as s:
        assert not await was_claimed(s, job="digest-monthly", period="2026-11")
    await bot.fire("monthly-digest-retry", local(2026, 12, 1, 9, 15))
    await bot.fire("monthly-digest", local(2026, 12, 1, 9, 20))
    assert len(await posted(engine, "2026-11")) == GROUPS


# One instance of the bot firing the monthly digest: its own process, engine and pool.
INSTANCE = """
import asyncio, json, sys
from datetime import datetime
from zoneinfo import ZoneInfo
from scheduler.digests import queue_digests
from storage.db import create_engine

async def main() -> None:
    engine = create_engine(sys.argv[1])
    try:
        now = datetime.fromisoformat(sys.argv[2])
        queued = await queue_digests(
            engine, cadence="monthly", now=now, tz=ZoneInfo("Asia/Shanghai")
        )
    finally:
        await engine.dispose()
    print(json.dumps(queued))

asyncio.run(main())
"""
WAIT = 120.0  # seconds: generous for a loaded CI machine; only reached when something hangs


async def _start(database_url: str, now: datetime) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        INSTANCE,
        database_url,
        now.isoformat(),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _result(process: asyncio.subprocess.Process) -> Any:
    out, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def _both_waiting_for_the_ledger(engine: AsyncEngine, processes: list[Any]) -> bool:
    """Wait until both instances are blocked on their claim; False if one ended first."""
    query = text(
        "SELECT count(*) FROM pg_locks WHERE relation = 'job_runs'::regclass AND NOT granted"
    )
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            if (await conn.execute(query)).scalar_one() >= 2:
                return True
        if any(p.returncode is not None for p in processes):
            return False
        await asyncio.sleep(0.05)
    return False


@pytest.mark.skipif(
    PG_URL is None,
    reason="two processes on one PostgreSQL database: set YISHI_TEST_DATABASE_URL (CI does)",
)
async def test_two_processes_on_the_same_postgresql_database_post_once(
    engine: AsyncEngine, database_url: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the two-process run is for PostgreSQL, the database of several instances")
    await november(engine)
    now = local(2026, 12, 1, 9)
    # Hold the ledger so that both instances reach their claim before either can make it:
    # a table lock that lets them read the ledger but not write to it.
    async with engine.connect() as gate:
        transaction = await gate.begin()
        await gate.execute(text("LOCK TABLE job_runs IN SHARE ROW EXCLUSIVE MODE"))
        processes = [await _start(database_url, now) for _ in range(2)]
        try:
            together = await _both_waiting_for_the_ledger(engine, processes)
        finally:
            await transaction.rollback()
        results = [await _result(p) for p in processes]
    assert together, f"the instances did not meet at the ledger: {results}"
    assert sorted(results, key=str) == [GROUPS, None]
    rows = await posted(engine, "2026-11")
    assert len(rows) == GROUPS and len({int(r.address) for r in rows}) == GROUPS
