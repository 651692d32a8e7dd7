"""`yishi migrate` upgrades a database made by an older version and loses nothing.

The rows are written with plain SQL against the old schema, as the old code left them; the
upgrade runs through the real command in a child process; the rows are then read back through
today's models, whose new columns must hold their defaults.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from bot.config import normalise_database_url
from storage.db import (
    _alembic_config,
    create_engine,
    head_revision,
    migrate,
    prepare_schema,
    session_scope,
)
from storage.media import MediaFile
from storage.models import (
    Case,
    CaseEvent,
    Category,
    Group,
    Identity,
    JobRun,
    OutboxMessage,
    ProcessedUpdate,
    ReportDraft,
    Resident,
    Route,
    Unit,
)
from storage.people import find_resident
from storage.whistle.models import Whistle
from tests import conftest as shared
from tests.storage.factories import photo_refs

pytestmark = pytest.mark.slow  # `yishi migrate` runs as a child process

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 10, 3, 8, 30, 15, 123456, tzinfo=UTC)
BIG_CHAT = -1001234567890  # supergroup ids and many user ids do not fit in 32 bits
BIG_USER = 5123456789


@dataclass
class Database:
    url: str  # for the engine in this process
    cli_url: str  # as an operator writes YISHI_DATABASE_URL
    cwd: Path


@dataclass
class Expected:
    """What was written: (model, primary key) -> the fields it must still read back as."""

    rows: dict[tuple[type[SQLModel], Any], dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, model: type[SQLModel], key: Any, values: dict[str, Any]) -> None:
        self.rows[(model, key)] = values
        table = str(model.__tablename__)
        self.counts[table] = self.counts.get(table, 0) + 1


@pytest.fixture(params=shared.BACKENDS)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with no tables at all (the shared fixtures hand out migrated ones)."""
    if request.param == "sqlite":
        path = tmp_path / "old.db"
        yield Database(f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}", tmp_path)
        return
    assert shared.PG_URL is not None
    url = normalise_database_url(shared.PG_URL)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        await conn.execute(sa.text("CREATE SCHEMA public"))
    await engine.dispose()
    # The shared fixture migrates PostgreSQL once per run; this test rebuilt the schema
    # behind its back, so make the next test that asks for it start from scratch.
    shared._pg_migrated = False
    try:
        yield Database(url, shared.PG_URL, tmp_path)
    finally:
        shared._pg_migrated = False


def _bind_type(value: Any) -> sa.types.TypeEngine[Any] | None:
    # Bound as the old code's columns bound them: SQLite keeps datetimes as text and JSON
    # as a string, PostgreSQL gets timestamptz and json.
    if isinstance(value, datetime):
        return sa.DateTime(timezone=True)
    if isinstance(value, list | dict):
        return sa.JSON()
    return None


async def _insert(conn: AsyncConnection, table: str, row: dict[str, Any]) -> int | None:
    """INSERT one row with plain SQL; the generated id when the table has one."""
    columns = ", ".join(f'"{name}"' for name in row)
    values = ", ".join(f":{name}" for name in row)
    has_id = table not in ("processed_updates", "routes", "job_runs")
    sql = f'INSERT INTO "{table}" ({columns}) VALUES ({values})'
    statement = sa.text(sql + (" RETURNING id" if has_id else "")).bindparams(
        *[
            sa.bindparam(name, type_=kind)
            for name, value in row.items()
            if (kind := _bind_type(value)) is not None
        ]
    )
    result = await conn.execute(statement, row)
    return int(result.scalar_one()) if has_id else None


def _resident(external_id: int, name: str, username: str | None, lang: str) -> dict[str, Any]:
    return {"channel": "telegram", "external_id": external_id, "name": name,
            "username": username, "language": lang, "created_at": T0,
            "last_seen_at": T0 + timedelta(days=external_id % 30)}  # fmt: skip


def _case(category_id: int, reporter_id: int, text: str, **more: Any) -> dict[str, Any]:
    row = {"category_id": category_id, "text": text, "photos": [], "latitude": None,
           "longitude": None, "address": None, "reporter_id": reporter_id, "anonymous": False,
           "source": "private", "source_channel": "telegram", "status": "new",
           "created_at": T0, "updated_at": T0}  # fmt: skip
    return row | more


def _event(case_id: int, actor_id: int | None, kind: str, **more: Any) -> dict[str, Any]:
    row = {"case_id": case_id, "at": T0, "actor_id": actor_id, "kind": kind,
           "from_status": None, "to_status": "new", "note": "", "public": True}  # fmt: skip
    return row | more


async def _fill_first_version(engine: AsyncEngine) -> Expected:
    """Residents, categories, a group, cases with their trail, a draft: all 0001 had."""
    expected = Expected()

    async def add(model: type[SQLModel], row: dict[str, Any]) -> int:
        new_id = await _insert(conn, str(model.__tablename__), row)
        assert new_id is not None
        expected.add(model, new_id, row)
        return new_id

    async with engine.begin() as conn:
        safety = await add(Category, {"code": "safety", "name_zh": "安全隐患",
                                      "name_en": "Safety hazard", "position": 0,
                                      "active": True})  # fmt: skip
        lifts = await add(Category, {"code": "lifts", "name_zh": "电梯", "name_en": "Lifts",
                                     "position": 7, "active": False})  # fmt: skip
        zhang = await add(Resident, _resident(BIG_USER, "张三", "zhangsan", "zh"))
        li = await add(Resident, _resident(42, "Li Wei", None, "en"))
        secretary = await add(Resident, _resident(77, "王秘书", "wang_mishu", "zh"))
        await add(Group, {"channel": "telegram", "external_id": BIG_CHAT,
                          "title": "三号楼业主群", "created_at": T0})  # fmt: skip
        for update_id in (900000001, 900000002):
            row = {"bot_id": 7000000001, "update_id": update_id, "at": T0}
            await _insert(conn, "processed_updates", row)
            expected.add(ProcessedUpdate, (7000000001, update_id), row)
        blocked_exit = await add(Case, _case(
            safety, zhang, "3号楼楼道堆放杂物，堵塞消防通道",
            photos=["AgACAgUAAxkBAAIBZ2VfX1", "AgACAgUAAxkBAAIBaGVfX2"], latitude=31.2304,
            longitude=121.4737, address="长宁路 1000 弄 3 号", source_chat_id=BIG_USER,
            source_message_id=101, status="accepted", created_at=T0 + timedelta(minutes=5),
            updated_at=T0 + timedelta(hours=2),
        ))  # fmt: skip
        lift = await add(Case, _case(
            lifts, li, "Lift in building 5 stuck between floors", anonymous=True,
            source="group", source_chat_id=BIG_CHAT, source_message_id=55,
            created_at=T0 + timedelta(days=1), updated_at=T0 + timedelta(days=1),
        ))  # fmt: skip
        await add(CaseEvent, _event(blocked_exit, zhang, "opened"))
        await add(CaseEvent, _event(
            blocked_exit, secretary, "status", at=T0 + timedelta(hours=2), from_status="new",
            to_status="accepted", note="已转物业，今日清理", public=False,
        ))  # fmt: skip
        await add(CaseEvent, _event(lift, None, "opened", at=T0 + timedelta(days=1)))
        await add(ReportDraft, {
            "resident_id": secretary, "chat_id": 77, "step": "text", "category_id": safety,
            "text": "路灯不亮", "photos": ["AgACAgUAAxkBAAIBa"], "latitude": None,
            "longitude": None, "address": "4号楼北侧", "anonymous": None, "created_at": T0,
            "updated_at": T0 + timedelta(seconds=30),
        })  # fmt: skip
        # A case filed and then removed: its number must never be handed out again.
        gone = await _insert(conn, "cases", _case(safety, li, "test", source_chat_id=42,
                                                  source_message_id=9))  # fmt: skip
        await conn.execute(sa.text("DELETE FROM cases WHERE id = :id"), {"id": gone})
    return expected


async def _fill_fourth_version(engine: AsyncEngine, expected: Expected) -> None:
    """What 0002-0004 added: units and routes, the outbox, the ledger, profiles, whistles."""
    async with engine.begin() as conn:
        names = await conn.execute(sa.text("SELECT name, id FROM residents"))
        ids = {str(name): int(row_id) for name, row_id in names.all()}
        safety = (
            await conn.execute(sa.text("SELECT id FROM categories WHERE code = 'safety'"))
        ).scalar_one()
        unit_row = {"code": "property_co", "name_zh": "物业公司", "name_en": "Property company",
                    "active": True}  # fmt: skip
        unit = await _insert(conn, "units", unit_row)
        expected.add(Unit, unit, unit_row)
        route = {"category_id": safety, "unit_id": unit, "due_hours": 48}
        await _insert(conn, "routes", route)
        expected.add(Route, safety, route)
        notice = {
            "channel": "telegram", "chat_id": BIG_USER, "lang": "zh", "kind": "case_status",
            "params": {"case": 1, "status": "accepted", "note": "已转物业"},
            "dedup_key": f"case:1:accepted:{BIG_USER}", "status": "pending", "attempts": 2,
            "next_attempt_at": T0 + timedelta(minutes=3), "leased_until": None,
            "created_at": T0, "sent_at": None, "sent_message_id": None,
            "last_error": "RetryAfter: 30",
        }  # fmt: skip
        read_back = {  # 0011: the integer chat id became the address, a decimal string
            ("address" if name == "chat_id" else name): str(value) if name == "chat_id" else value
            for name, value in notice.items()
        }
        expected.add(OutboxMessage, await _insert(conn, "outbox", notice), read_back)
        run = {"job": "weekly-digest", "period": "2026-W40", "claimed_at": T0}
        await _insert(conn, "job_runs", run)
        expected.add(JobRun, ("weekly-digest", "2026-W40"), run)
        whistle = {
            "created_by_id": ids["王秘书"], "question": "你对3号楼加装电梯的意见？",
            "options": ["赞成", "反对", "无所谓"], "free_text": True,
            "audience": {"groups": "all", "subscribers": True, "buildings": ["3"]},
            "results_to_groups": False, "deadline_at": T0 + timedelta(days=7),
            "status": "open", "step": None, "created_at": T0, "sent_at": T0,
            "reminded_at": None, "closed_at": None, "cancelled_at": None,
            "report_chat_id": 77, "report_message_id": 3001,
        }  # fmt: skip
        expected.add(Whistle, await _insert(conn, "whistles", whistle), whistle)
        # The 0002-0004 columns on rows that were already there, as the bot fills them.
        profile = {"building": "3", "entrance": "2", "phone": "13800138000",
                   "subscribed_at": T0 + timedelta(days=2)}  # fmt: skip
        await _update(conn, "residents", ids["张三"], profile)
        expected.rows[(Resident, ids["张三"])].update(profile)
        routed = {"unit_id": unit, "building": "3", "due_at": T0 + timedelta(hours=50),
                  "first_response_at": T0 + timedelta(hours=2)}  # fmt: skip
        await _update(conn, "cases", 1, routed)
        expected.rows[(Case, 1)].update(routed)
        group_id = (await conn.execute(sa.text("SELECT id FROM groups"))).scalar_one()
        registered = {"registered_at": T0, "registered_by_id": ids["王秘书"],
                      "buildings": ["3", "4"]}  # fmt: skip
        await _update(conn, "groups", group_id, registered)
        expected.rows[(Group, group_id)].update(registered)


async def _update(conn: AsyncConnection, table: str, row_id: int, values: dict[str, Any]) -> None:
    sets = ", ".join(f'"{name}" = :{name}' for name in values)
    statement = sa.text(f'UPDATE "{table}" SET {sets} WHERE id = :row_id').bindparams(
        *[
            sa.bindparam(name, type_=kind)
            for name, value in values.items()
            if (kind := _bind_type(value)) is not None
        ]
    )
    assert (await conn.execute(statement, {**values, "row_id": row_id})).rowcount == 1


def _yishi_migrate(database: Database, *revision: str) -> None:
    """`yishi migrate [revision]` exactly as an operator runs it."""
    env = {
        **os.environ,
        "YISHI_DATABASE_URL": database.cli_url,
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "true",
    }
    env.pop("YISHI_TELEGRAM_TOKEN", None)  # migrating needs no bot
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--log-level", "WARNING", "migrate", *revision],
        cwd=database.cwd,  # no stray .env
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "database schema is up to date\n"


def _downgrade_to(connection: sa.Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(connection), revision)


async def _revision(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        version = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
        return str(version.scalar_one())


async def _assert_all_there(engine: AsyncEngine, expected: Expected) -> None:
    async with engine.connect() as conn:
        for table, count in expected.counts.items():
            found = (await conn.execute(sa.text(f'SELECT count(*) FROM "{table}"'))).scalar_one()
            assert found == count, table
    async with session_scope(engine) as session:
        for (model, key), values in expected.rows.items():
            row = await session.get(model, key)
            assert row is not None, (model.__name__, key)
            found = {name: getattr(row, name) for name in values}
            if "photos" in found:  # 0009: Telegram file ids became media records
                found["photos"] = await photo_refs(session, found["photos"])
            assert found == values, (model.__name__, key)


@pytest.fixture
async def old_engine(empty_database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_database.url)
    await migrate(engine, "0001")
    yield engine
    await engine.dispose()


async def test_yishi_migrate_takes_a_first_version_database_to_head_with_its_data(
    empty_database: Database, old_engine: AsyncEngine
) -> None:
    expected = await _fill_first_version(old_engine)
    assert await _revision(old_engine) == "0001"
    await old_engine.dispose()  # the operator's upgrade runs alone

    _yishi_migrate(empty_database)

    engine = create_engine(empty_database.url)
    try:
        assert await _revision(engine) == head_revision()
        await prepare_schema(engine)  # what `yishi run` checks at start-up: accepted
        await _assert_all_there(engine, expected)
        async with session_scope(engine) as session:
            zhang = await session.get(Resident, 1)
            case = await session.get(Case, 1)
            group = await session.get(Group, 1)
        assert zhang is not None and case is not None and group is not None
        # Columns added after 0001 hold their defaults on the old rows.
        added = ("unreachable_at", "building", "entrance", "phone", "subscribed_at")
        assert {name: getattr(zhang, name) for name in added} == dict.fromkeys(added)
        added = ("unit_id", "assignee_id", "due_at", "building", "first_response_at",
                 "resolved_at", "closed_at", "satisfaction", "duplicate_of_id")  # fmt: skip
        assert {name: getattr(case, name) for name in added} == dict.fromkeys(added)
        assert (group.buildings, group.registered_at, group.registered_by_id) == ([], None, None)
        # 0011: every resident has its identity, the Telegram id as a decimal string.
        async with session_scope(engine) as session:
            found = (await session.exec(sa.select(Identity))).scalars().all()  # type: ignore[call-overload]
            assert sorted((i.resident_id, i.channel, i.external_id) for i in found) == [
                (1, "telegram", str(BIG_USER)), (2, "telegram", "42"), (3, "telegram", "77"),
            ]  # fmt: skip
            assert (await find_resident(session, channel="telegram", external_id="42")).id == 2
        # The upgraded database takes new rows, and a deleted case's number stays retired.
        async with session_scope(engine) as session:
            new_case = Case(
                category_id=1, text="新的报告", reporter_id=2, source_chat_id=42,
                source_message_id=10,
            )  # fmt: skip
            new_resident = Resident(external_id=99, name="赵六")
            session.add_all([new_case, new_resident])
            await session.flush()
            session.add(CaseEvent(case_id=1, kind="note", note="已清理"))
        assert new_case.id == 4 and new_resident.id == 4
    finally:
        await engine.dispose()


async def test_upgrading_in_two_steps_keeps_what_each_version_wrote(
    empty_database: Database, old_engine: AsyncEngine
) -> None:
    expected = await _fill_first_version(old_engine)
    await old_engine.dispose()

    _yishi_migrate(empty_database, "0004")

    engine = create_engine(empty_database.url)
    try:
        assert await _revision(engine) == "0004"
        await _fill_fourth_version(engine, expected)
        await engine.dispose()

        _yishi_migrate(empty_database)

        assert await _revision(engine) == head_revision()
        await _assert_all_there(engine, expected)
        async with engine.connect() as conn:  # 0006 made its one state row, not built yet
            state = await conn.execute(sa.text("SELECT id, built_at FROM stats_rollup_state"))
            assert [tuple(row) for row in state.all()] == [(1, None)]
    finally:
        await engine.dispose()


async def test_0009_keeps_old_photos_as_media_records(
    empty_database: Database, old_engine: AsyncEngine
) -> None:
    """Photos kept as Telegram file ids (cases, drafts, a queued notice) become media records
    that still name the same files; one file id is one record."""
    await old_engine.dispose()
    _yishi_migrate(empty_database, "0008")
    engine = create_engine(empty_database.url)
    try:
        async with engine.begin() as conn:
            category = await _insert(conn, "categories", {
                "code": "safety", "name_zh": "安全隐患", "name_en": "Safety hazard",
                "position": 0, "active": True,
            })  # fmt: skip
            assert category is not None
            wang = await _insert(conn, "residents", _resident(BIG_USER, "王芳", None, "zh"))
            assert wang is not None
            photos = ["AgACAgUAAxkBAAIBZ2VfX1", "AgACAgUAAxkBAAIBaGVfX2"]
            case = await _insert(conn, "cases", _case(
                category, wang, "楼道堆物", photos=photos, source_chat_id=BIG_USER,
                source_message_id=1,
            ))  # fmt: skip
            await _insert(conn, "cases", _case(
                category, wang, "无照片", source_chat_id=BIG_USER, source_message_id=2,
            ))  # fmt: skip
            await _insert(conn, "report_drafts", {
                "resident_id": wang, "chat_id": BIG_USER, "step": "photos",
                "category_id": category, "text": "路灯不亮", "photos": [photos[1], "AgAC-new"],
                "latitude": None, "longitude": None, "address": None, "anonymous": None,
                "created_at": T0, "updated_at": T0,
            })  # fmt: skip
            notice = {
                "channel": "telegram", "chat_id": BIG_USER, "lang": "zh", "kind": "case_update",
                "params": {"case": case, "status": "resolved", "note": "已清理",
                           "photo": "AgAC-after"},
                "dedup_key": "case_update:1:9", "status": "pending", "attempts": 0,
                "next_attempt_at": T0, "leased_until": None, "created_at": T0,
                "sent_at": None, "sent_message_id": None, "last_error": None,
            }  # fmt: skip
            notice_id = await _insert(conn, "outbox", notice)
            without = {**notice, "params": {"case": case, "status": "accepted", "photo": None},
                       "dedup_key": "case_update:1:8"}  # fmt: skip
            without_id = await _insert(conn, "outbox", without)
        await engine.dispose()

        _yishi_migrate(empty_database)

        async with session_scope(engine) as session:
            filed = await session.get(Case, case)
            draft = (await session.exec(sa.select(ReportDraft))).scalars().one()  # type: ignore[call-overload]
            queued = await session.get(OutboxMessage, notice_id)
            plain = await session.get(OutboxMessage, without_id)
            assert filed is not None and queued is not None and plain is not None
            assert await photo_refs(session, filed.photos) == photos
            assert await photo_refs(session, draft.photos) == [photos[1], "AgAC-new"]
            assert draft.photos[0] == filed.photos[1]  # one file id, one record
            assert isinstance(queued.params["photo"], int)
            assert await photo_refs(session, [queued.params["photo"]]) == ["AgAC-after"]
            assert {k: v for k, v in queued.params.items() if k != "photo"} == {
                "case": case,
                "status": "resolved",
                "note": "已清理",
            }
            assert plain.params == {"case": case, "status": "accepted", "photo": None}
            records = (await session.exec(sa.select(MediaFile))).scalars().all()  # type: ignore[call-overload]
            assert sorted(m.channel_ref for m in records) == sorted(
                [*photos, "AgAC-new", "AgAC-after"]
            )
            assert {(m.channel, m.channel_unique, m.content) for m in records} == {
                ("telegram", None, None)
            }
        await engine.dispose()

        async with engine.connect() as conn:  # and back (0009's downgrade): the file ids again
            await conn.run_sync(_downgrade_to, "0008")
            await conn.commit()
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT photos FROM cases ORDER BY id"))
            stored = [json.loads(p) if isinstance(p, str) else p for (p,) in rows.all()]
            assert stored == [photos, []]
            params = (await conn.execute(
                sa.text("SELECT params FROM outbox WHERE id = :id"), {"id": notice_id}
            )).scalar_one()  # fmt: skip
            params = json.loads(params) if isinstance(params, str) else params
            assert params["photo"] == "AgAC-after"
    finally:
        await engine.dispose()
