"""`yishi schedule`: every job on the bot's scheduler, its trigger and its next run, local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.config import load_settings
from bot.runtime import runtime
from bot.telegram.app import build_application
from scheduler.cron import describe_jobs, format_jobs

TZ = ZoneInfo("Asia/Shanghai")
JOBS = [
    "housekeeping",
    "deadline-sweep",
    "monthly-report",
    "monthly-report-catch-up",
    "weekly-digest",
    "weekly-digest-catch-up",
    "monthly-digest",
    "monthly-digest-catch-up",
]


def test_yishi_schedule_lists_the_jobs_with_their_next_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("YISHI_TELEGRAM_TOKEN", raising=False)  # listing needs no token
    monkeypatch.setenv("YISHI_DATABASE_URL", f"sqlite:///{tmp_path / 'yishi.db'}")
    monkeypatch.setenv("YISHI_TIMEZONE", "Asia/Shanghai")
    before = datetime.now(TZ).replace(tzinfo=None, microsecond=0)
    assert main(["--log-level", "WARNING", "schedule"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["JOB", "TRIGGER", "NEXT", "RUN", "(Asia/Shanghai)"]
    rows = {line.split()[0]: line for line in out[1:]}
    assert set(JOBS) <= set(rows)
    for name in JOBS:
        next_run = datetime.fromisoformat(" ".join(rows[name].split()[-2:]))
        assert before <= next_run <= before + timedelta(days=32), rows[name]
    weekly = datetime.fromisoformat(" ".join(rows["weekly-digest"].split()[-2:]))
    assert (weekly.weekday(), weekly.hour, weekly.minute) == (0, 9, 0)  # Monday 09:00 local
    assert "day_of_week='mon'" in rows["weekly-digest"]
    monthly = datetime.fromisoformat(" ".join(rows["monthly-digest"].split()[-2:]))
    assert (monthly.day, monthly.hour) == (1, 9)
    assert not (tmp_path / "yishi.db").exists()  # nothing ran, not even a connection


async def test_next_runs_are_in_the_configured_time_zone(engine: AsyncEngine) -> None:
    settings = load_settings(telegram_token="123:abc", timezone="Asia/Shanghai")
    scheduler = runtime(build_application(settings, engine).bot_data).scheduler
    assert scheduler is not None
    now = datetime(2026, 11, 29, 23, 30, tzinfo=TZ)  # a Sunday night in Beijing
    jobs = {line.name: line for line in describe_jobs(scheduler, now=now, tz=TZ)}
    assert jobs["weekly-digest"].next_run == datetime(2026, 11, 30, 9, tzinfo=TZ)
    assert jobs["monthly-digest"].next_run == datetime(2026, 12, 1, 9, tzinfo=TZ)
    assert jobs["monthly-report"].next_run == datetime(2026, 11, 30, 8, tzinfo=TZ)
    assert jobs["weekly-digest"].next_run.tzinfo == TZ  # type: ignore[union-attr]
    table = format_jobs(list(jobs.values()), TZ)
    assert "weekly-digest" in table and "2026-11-30 09:00:00" in table
