"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (tables on the metadata for TRUNCATE)
from bot.config import normalise_database_url
from bot.telegram.emulator import Emulator
from storage.cases.categories import seed_categories
from storage.cases.routing import seed_units_and_routes
from storage.db import create_engine, migrate, session_scope
from tests.harness import BotUnderTest, make_emulator

# As `yishi` does (bot/cli.py): RetryAfter carries a timedelta, and no deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
PG_URL = os.environ.get("YISHI_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file that each test copies (faster than migrating each time)."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        async with session_scope(engine) as session:
            await seed_categories(session)
            await seed_units_and_routes(session)
        await engine.dispose()

    asyncio.run(build())
    return path


_pg_migrated = False


async def _fresh_postgres(url: str) -> None:
    """Migrate once per run, then empty every table and restart the ids."""
    global _pg_migrated
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            if not _pg_migrated:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        if not _pg_migrated:
            await migrate(engine)
            _pg_migrated = True
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        async with session_scope(engine) as session:
            await seed_categories(session)
            await seed_units_and_routes(session)
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> str:
    """The URL of a fresh, migrated database with the default categories."""
    if request.param == "sqlite":
        path = tmp_path / "yishi.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    assert PG_URL is not None
    url = normalise_database_url(PG_URL)
    await _fresh_postgres(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def emu() -> Emulator:
    """A Bot API emulator for a conversation test (tests/harness.py)."""
    return make_emulator()


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """The real bot, polling the emulator, on the test's database."""
    under_test = BotUnderTest(emu, database_url)
    await under_test.start()
    yield under_test
    await under_test.stop()
