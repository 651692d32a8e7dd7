"""A year of a busy district for bench/stats.py: cases, their events, disputes and hazards.

Rows go in through the driver's executemany in large batches (no COPY, no ORM), with ids
chosen here so that events and particulars can point at their cases without a round trip.
Cases are filed evenly through the year with jitter, so ids follow filing order as in life.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

BATCH = 20_000
HAZARD_KINDS = ["group_rental", "small_venues", "underground_parking", "utilities", "fire_passage"]
RESIDENTS = 5_000
CATEGORY_WEIGHTS = {
    "property": 30, "environment": 20, "safety": 12, "facilities": 10,
    "construction": 8, "group_rental": 5, "labour": 5, "other": 10,
}  # fmt: skip
STATUS_WEIGHTS = {
    "closed": 45, "resolved": 20, "in_progress": 8, "accepted": 7,
    "new": 5, "rejected": 7, "duplicate": 4, "reopened": 4,
}  # fmt: skip
# The status changes each final status went through (after "opened").
PATHS = {
    "new": [],
    "accepted": [("new", "accepted")],
    "in_progress": [("new", "accepted"), ("accepted", "in_progress")],
    "resolved": [("new", "accepted"), ("accepted", "resolved")],
    "closed": [("new", "accepted"), ("accepted", "resolved"), ("resolved", "closed")],
    "rejected": [("new", "rejected")],
    "duplicate": [("new", "duplicate")],
    "reopened": [("new", "accepted"), ("accepted", "resolved"), ("resolved", "reopened")],
}
TEXTS = [
    "3号楼2单元楼道的灯坏了一个星期了",
    "小区东门垃圾桶满了没人清理，气味很大",
    "12号楼电梯经常停在半层，老人出行困难",
    "工地晚上十一点还在施工，噪音很大",
    "消防通道被电动车堵住了，联系电话 138 1234 5678",
    "健身器材的螺丝松了，孩子玩很危险",
    "楼下群租房住了十几个人，进出很乱 021-12345678",
]
CASE_COLUMNS = (
    "id", "category_id", "text", "photos", "reporter_id", "anonymous", "source",
    "source_channel", "source_chat_id", "source_message_id", "status", "created_at",
    "updated_at", "unit_id", "due_at", "first_response_at", "resolved_at", "closed_at",
    "satisfaction", "building",
)  # fmt: skip
BUILDINGS = [str(n) for n in range(1, 41)]  # a district's estate: buildings 1-40
EVENT_COLUMNS = ("id", "case_id", "at", "kind", "from_status", "to_status", "note", "public")
DISPUTE_COLUMNS = ("case_id", "parties", "people_count", "amount_yuan")
HAZARD_COLUMNS = ("case_id", "kind", "place", "responsible_party", "deadline")


def _sql(table: str, columns: tuple[str, ...], dialect: str) -> str:
    marks = [f"${i}" if dialect == "postgresql" else "?" for i in range(1, len(columns) + 1)]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"


def _sqlite_time(moment: datetime | None) -> str | None:
    """How SQLAlchemy stores a UTC datetime in SQLite (storage.models.UTCDateTime)."""
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


async def generate(
    engine: AsyncEngine, *, cases: int, start: datetime, end: datetime, seed: int = 7
) -> dict[str, int]:
    """Insert `cases` cases filed in [start, end) with everything that hangs off them."""
    dialect = engine.dialect.name
    at: Callable[[datetime | None], Any] = _sqlite_time if dialect == "sqlite" else (lambda t: t)
    flag: Callable[[bool], Any] = int if dialect == "sqlite" else bool
    rng = random.Random(seed)
    async with engine.begin() as conn:
        codes = dict((await conn.execute(text("SELECT code, id FROM categories"))).all())
        routes = dict((await conn.execute(text("SELECT category_id, unit_id FROM routes"))).all())
    category_ids = [codes[c] for c in CATEGORY_WEIGHTS]
    statuses = list(STATUS_WEIGHTS)
    now = datetime.now(UTC)
    residents = [
        (n, "telegram", 10_000_000 + n, f"居民{n}", "zh", at(now), at(now))
        for n in range(1, RESIDENTS + 1)
    ]
    columns = ("id", "channel", "external_id", "name", "language", "created_at", "last_seen_at")
    await _insert(engine, "residents", columns, residents)
    reach = [(n, n, "telegram", str(10_000_000 + n), at(now)) for n in range(1, RESIDENTS + 1)]
    reach_columns = ("id", "resident_id", "channel", "external_id", "created_at")
    await _insert(engine, "identities", reach_columns, reach)

    span = (end - start).total_seconds()
    event_id = 0
    totals = {"cases": 0, "events": 0, "disputes": 0, "hazards": 0}
    for first in range(1, cases + 1, BATCH):
        rows: dict[str, list[tuple[Any, ...]]] = {
            "cases": [], "events": [], "disputes": [], "hazards": []
        }  # fmt: skip
        for number in range(first, min(first + BATCH, cases + 1)):
            filed = start + timedelta(seconds=(number - 1 + rng.random()) * span / cases)
            inspection = rng.random() < 0.08
            category = codes["safety"] if inspection else rng.choices(
                category_ids, weights=list(CATEGORY_WEIGHTS.values())
            )[0]  # fmt: skip
            status = rng.choices(statuses, weights=list(STATUS_WEIGHTS.values()))[0]
            path = PATHS[status]
            responded = filed + timedelta(hours=rng.uniform(0.2, 48)) if path else None
            done = status in ("resolved", "closed", "reopened")
            resolved = filed + timedelta(hours=rng.uniform(2, 240)) if done else None
            if resolved and responded and resolved < responded:
                responded = resolved
            closed = resolved + timedelta(days=3) if status == "closed" and resolved else None
            stars = rng.choice([5, 5, 5, 4, 4, 3, 2, 1]) if closed and rng.random() < 0.3 else None
            source = "inspection" if inspection else rng.choice(["private"] * 4 + ["group"])
            rows["cases"].append((
                number, category, rng.choice(TEXTS), "[]", 1 + number % RESIDENTS,
                flag(rng.random() < 0.2), source, "telegram", 10_000_000 + number % RESIDENTS,
                number, status, at(filed), at(closed or resolved or responded or filed),
                routes.get(category), at(filed + timedelta(hours=72)), at(responded),
                at(resolved), at(closed), stars,
                None if rng.random() < 0.05 else rng.choice(BUILDINGS),
            ))  # fmt: skip
            when = {
                "resolved": resolved, "closed": closed,
                "reopened": resolved + timedelta(days=1) if resolved else None,
            }  # fmt: skip
            changes = [("opened", None, None, filed, "")] + [
                ("status", old, new, when.get(new) or responded, "已处理" if done else "")
                for old, new in path
            ]
            for kind, old, new, moment, note in changes:
                event_id += 1
                rows["events"].append(
                    (event_id, number, at(moment), kind, old, new, note, flag(True))
                )
            if category == codes["labour"] and rng.random() < 0.8:
                people = rng.randint(1, 40)
                parties = f"工人{people}人 / 某建筑公司"
                rows["disputes"].append(
                    (number, parties, people, people * rng.randint(3, 30) * 1000)
                )
            if inspection:
                deadline = at(filed + timedelta(days=7))
                kind = rng.choice(HAZARD_KINDS)
                rows["hazards"].append((number, kind, "5号楼东侧", "物业", deadline))
        await _insert(engine, "cases", CASE_COLUMNS, rows["cases"])
        await _insert(engine, "case_events", EVENT_COLUMNS, rows["events"])
        await _insert(engine, "disputes", DISPUTE_COLUMNS, rows["disputes"])
        await _insert(engine, "hazards", HAZARD_COLUMNS, rows["hazards"])
        for key, batch in rows.items():
            totals[key] += len(batch)
    return totals


async def _insert(
    engine: AsyncEngine, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.executemany(_sql(table, columns, engine.dialect.name), rows)
