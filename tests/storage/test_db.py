from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import SchemaOutOfDate, create_engine, prepare_schema, session_scope


async def test_migrations_build_exactly_the_models(engine: AsyncEngine) -> None:
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_start_up_creates_the_schema_on_an_empty_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    await prepare_schema(engine)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert {"cases", "case_events", "residents", "report_drafts", "alembic_version"} <= tables


async def test_start_up_refuses_a_database_at_an_older_revision(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    await prepare_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    with pytest.raises(SchemaOutOfDate, match="yishi migrate"):
        await prepare_schema(engine)
    await engine.dispose()


async def test_session_scope_rolls_back_on_error(engine: AsyncEngine) -> None:
    from tests.storage.factories import resident

    with pytest.raises(RuntimeError):
        async with session_scope(engine) as s:
            await resident(s, 5)
            raise RuntimeError("boom")
    async with session_scope(engine) as s:
        count = (await s.exec(text("SELECT count(*) FROM residents"))).one()  # type: ignore[call-overload]
    assert count[0] == 0


async def test_upgrading_a_first_version_database_keeps_its_data(tmp_path: Path) -> None:
    from storage.db import migrate

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'v1.db'}")
    await migrate(engine, "0001")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO residents (id, channel, external_id, name, language, created_at,"
                " last_seen_at) VALUES (1, 'telegram', 42, '王芳', 'zh', '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO categories (id, code, name_zh, name_en, position, active)"
                " VALUES (1, 'safety', '安全隐患', 'Safety hazard', 0, 1)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO cases (id, category_id, text, photos, reporter_id, anonymous,"
                " source, source_channel, source_chat_id, source_message_id, status,"
                " created_at, updated_at)"
                " VALUES (27, 1, '电梯坏了', '[]', 1, 0, 'private', 'telegram', 42, 7, 'new',"
                " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    await migrate(engine)
    async with session_scope(engine) as s:
        row = (
            await s.exec(
                text(  # type: ignore[call-overload]
                    "SELECT c.text, c.status, c.unit_id, r.name, r.unreachable_at FROM cases c"
                    " JOIN residents r ON r.id = c.reporter_id WHERE c.id = 27"
                )
            )
        ).one()
    await engine.dispose()
    assert tuple(row) == ("电梯坏了", "new", None, "王芳", None)


async def test_sqlite_tables_that_never_reuse_ids_keep_autoincrement(engine: AsyncEngine) -> None:
    """Migrations that rebuild a SQLite table must keep AUTOINCREMENT (a case's number is
    never handed out again), which a schema comparison does not see."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's sequences never reuse ids")
    wanted = [
        t.name for t in SQLModel.metadata.sorted_tables if t.kwargs.get("sqlite_autoincrement")
    ]
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        ddl = {name: sql.upper() for name, sql in rows}
    assert "cases" in wanted
    assert [name for name in wanted if "AUTOINCREMENT" not in ddl[name]] == []


async def test_two_instances_starting_on_an_empty_postgresql_migrate_it_once(database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serves one process")
    import asyncio

    import tests.conftest
    from storage.db import head_revision

    first, second = create_engine(database_url), create_engine(database_url)
    try:
        async with first.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        tests.conftest._pg_migrated = False  # the next test rebuilds its database
        await asyncio.gather(prepare_schema(first), prepare_schema(second))
        async with first.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await first.dispose()
        await second.dispose()
    assert version == [(head_revision(),)]
