"""The engine, the one session scope, and the schema migrations entry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An asyncio engine; SQLite gets WAL, foreign keys and writer-first transactions."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    # asyncpg prepares every statement; after five runs PostgreSQL may switch to a generic
    # plan that ignores the period's bounds, and a year's figures got 50% slower (bench/stats).
    settings = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    return create_async_engine(url, pool_pre_ping=True, connect_args=settings, **kwargs)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock up
    # front; two read-then-write transactions would then fail with "database is locked"
    # instead of waiting. Emitting BEGIN IMMEDIATE ourselves makes writers queue politely.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in str(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# SQLite has one writer at a time. Within a process, queueing transactions on an asyncio lock
# is fair and immediate; leaving it to SQLite's busy handler means sleeping and retrying.
_sqlite_writers: WeakKeyDictionary[Any, asyncio.Lock] = WeakKeyDictionary()


def _writer_lock(engine: AsyncEngine) -> asyncio.Lock | None:
    if engine.dialect.name != "sqlite":
        return None
    return _sqlite_writers.setdefault(engine.sync_engine, asyncio.Lock())


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block ends, roll back if it raises."""
    async with (
        _writer_lock(engine) or nullcontext(),
        AsyncSession(engine, expire_on_commit=False) as session,
    ):
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


MIGRATION_LOCK = 0x796973686931  # "yishi1": any constant no other program on the database uses


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (`yishi migrate`)."""
    from alembic import command

    def _upgrade(connection: Connection) -> None:
        if connection.dialect.name == "sqlite":
            _upgrade_sqlite(connection, revision)
            return
        with connection.begin():
            # Instances starting together on an empty database: one migrates, the others wait
            # here and then find nothing to do.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            command.upgrade(_alembic_config(connection), revision)

    async with engine.connect() as conn:
        await conn.run_sync(_upgrade)


def _upgrade_sqlite(connection: Connection, revision: str) -> None:
    """Alembic's batch mode alters a SQLite table by copying it and dropping the old one."""
    from alembic import command

    # The drop fails while other rows point at the table (a case and its events) and foreign
    # keys are enforced; the pragma is ignored inside a transaction, so it goes first.
    _pragma(connection, "foreign_keys=OFF")
    try:
        with connection.begin():
            counters = _autoincrement_counters(connection)
            command.upgrade(_alembic_config(connection), revision)
            # The copy restarts AUTOINCREMENT at the largest id left: a deleted case's number
            # would come back as someone else's. Put the old counters back.
            for name, seq in counters.items():
                connection.exec_driver_sql(
                    "UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?",
                    (seq, name, seq),
                )
                if not connection.exec_driver_sql(
                    "SELECT 1 FROM sqlite_sequence WHERE name = ?", (name,)
                ).first():
                    connection.exec_driver_sql(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq)
                    )
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
    finally:
        _pragma(connection, "foreign_keys=ON")


def _pragma(connection: Connection, setting: str) -> None:
    """Set a pragma on the driver's connection: SQLAlchemy's own execute would BEGIN first."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    cursor.execute(f"PRAGMA {setting}")
    cursor.close()


def _autoincrement_counters(connection: Connection) -> dict[str, int]:
    exists = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).first()
    if not exists:
        return {}
    rows = connection.exec_driver_sql("SELECT name, seq FROM sqlite_sequence").all()
    return {str(name): int(seq) for name, seq in rows}


class SchemaOutOfDate(Exception):
    """The database holds an older schema: an operator should run `yishi migrate`."""


async def prepare_schema(engine: AsyncEngine) -> None:
    """At start-up: create the schema on an empty database, refuse a stale one."""

    def _state(connection: Connection) -> tuple[bool, str | None]:
        empty = not inspect(connection).get_table_names()
        return empty, _current_revision(connection)

    async with engine.connect() as conn:
        empty, current = await conn.run_sync(_state)
    if empty:
        logger.info("empty database: applying migrations")
        await migrate(engine)
        return
    head = head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at {current or 'no revision'}, the code needs {head}: "
            "run `yishi migrate` first"
        )
