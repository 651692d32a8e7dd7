"""Benchmark: the hot-issue ranking and the monthly group digest over a large district.

Seeds (by this script, nothing checked in) three years of cases, default 1,000,000, most of
them long closed and a few percent open (more of the recent ones), with "me too" supports on
some open cases; 50,000 proposals, mostly old and decided, each with a few supports; and three
years of meetings whose agendas deferred some items. Then it times, first run and best of 3:

    (a) storage.deliberation.hot.hot_issues(now=...)                     the draft agenda's ranking
    (b) storage.deliberation.digests.compile_digest(one month, buildings) the monthly group digest

against a baseline from the same run: a plain `SELECT count(*) FROM cases`. Target: each under
one second at 1,000,000 cases, on SQLite and on PostgreSQL.

    python bench/agenda.py                                  # 1M cases, SQLite file in /tmp
    python bench/agenda.py --cases 100000                   # a quick run
    python bench/agenda.py --database-url postgresql://postgres@127.0.0.1:5432/bench_agenda
    python bench/agenda.py --reuse                          # time again, seeding skipped
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bench.harness import empty_schema, first_and_best  # noqa: E402
from bench.stats_data import _insert, _sqlite_time  # noqa: E402
from bot.config import normalise_database_url  # noqa: E402
from storage.db import create_engine, session_scope  # noqa: E402
from storage.deliberation.digests import compile_digest  # noqa: E402
from storage.deliberation.hot import hot_issues  # noqa: E402
from storage.models import Case  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
YEARS = 3
RESIDENTS = 20_000
BUILDINGS = [str(n) for n in range(1, 41)]
BATCH = 20_000
CATEGORIES = {
    "property": 30, "environment": 20, "safety": 12, "facilities": 10,
    "construction": 8, "group_rental": 5, "labour": 5, "other": 10,
}  # fmt: skip
CLOSED = {"closed": 70, "resolved": 15, "rejected": 10, "duplicate": 5}
OPEN = {"new": 30, "accepted": 25, "in_progress": 35, "reopened": 10}
PROBLEMS = [
    "楼道的灯坏了一个星期了", "垃圾桶满了没人清理，气味很大", "电梯经常停在半层，老人出行困难",
    "工地晚上十一点还在施工，噪音很大", "消防通道被电动车堵住了", "健身器材螺丝松了，很危险",
    "楼下群租房住了十几个人，进出很乱", "门禁坏了，外人随便进出", "地下车库漏水，地面积水很深",
    "楼顶水箱有异味，自来水发黄", "小区路灯不亮，晚上很黑", "绿化带里有人乱堆杂物",
    "外墙瓷砖脱落，砸到了车", "楼道里堆满纸箱，有火灾隐患", "广场舞音响太吵，影响休息",
    "井盖松动，走路容易踩空", "快递柜占用消防通道", "电动车在楼道里充电", "水管爆裂，楼下被淹",
    "物业费收了但是没人打扫", "下水道堵了，污水外溢", "楼下餐馆油烟太大", "宠物粪便没人清理",
    "停车位被长期占用",
]  # fmt: skip
PLACES = ["号楼", "号楼东侧", "号楼门口", "号楼地下车库", "号楼单元门"]


def _rows_for_cases(
    rng: random.Random, first: int, last: int, total: int, codes: dict[str, int], at: Any
) -> list[tuple[Any, ...]]:
    start = NOW - timedelta(days=365 * YEARS)
    span = (NOW - start).total_seconds()
    category_ids = [codes[c] for c in CATEGORIES]
    rows = []
    for number in range(first, last):
        filed = start + timedelta(seconds=(number - 1 + rng.random()) * span / total)
        recent = NOW - filed < timedelta(days=60)
        still_open = rng.random() < (0.30 if recent else 0.005)
        pool = OPEN if still_open else CLOSED
        status = rng.choices(list(pool), weights=list(pool.values()))[0]
        building = rng.choice(BUILDINGS)
        problem = rng.choice(PROBLEMS)
        words = f"{building}{rng.choice(PLACES)}{problem}"
        due = filed + timedelta(hours=72)
        resolved = filed + timedelta(hours=rng.uniform(2, 240)) if not still_open else None
        category = rng.choices(category_ids, weights=list(CATEGORIES.values()))[0]
        rows.append((
            number, category, words, "[]", 1 + number % RESIDENTS, False, "private",
            "telegram", 10_000_000 + number % RESIDENTS, number, status, building, at(filed),
            at(resolved or filed), at(due), at(resolved),
        ))  # fmt: skip
    return rows


CASE_COLUMNS = (
    "id", "category_id", "text", "photos", "reporter_id", "anonymous", "source",
    "source_channel", "source_chat_id", "source_message_id", "status", "building",
    "created_at", "updated_at", "due_at", "resolved_at",
)  # fmt: skip


async def seed(engine: AsyncEngine, *, cases: int, proposals: int, seed: int = 11) -> None:
    """Everything the two measurements read, inserted in large batches (no ORM)."""
    sqlite = engine.dialect.name == "sqlite"
    at: Callable[[datetime | None], Any] = _sqlite_time if sqlite else (lambda t: t)
    rng = random.Random(seed)
    async with engine.begin() as conn:
        codes = dict((await conn.execute(text("SELECT code, id FROM categories"))).all())
    residents = [
        (n, "telegram", 10_000_000 + n, f"居民{n}", "zh", at(NOW), at(NOW), rng.choice(BUILDINGS))
        for n in range(1, RESIDENTS + 1)
    ]
    columns = ("id", "channel", "external_id", "name", "language", "created_at",
               "last_seen_at", "building")  # fmt: skip
    await _insert(engine, "residents", columns, residents)
    reach = [(n, n, "telegram", str(10_000_000 + n), at(NOW)) for n in range(1, RESIDENTS + 1)]
    reach_columns = ("id", "resident_id", "channel", "external_id", "created_at")
    await _insert(engine, "identities", reach_columns, reach)
    open_cases: list[tuple[int, datetime]] = []
    for first in range(1, cases + 1, BATCH):
        rows = _rows_for_cases(rng, first, min(first + BATCH, cases + 1), cases, codes, at)
        await _insert(engine, "cases", CASE_COLUMNS, rows)
        open_cases += [(r[0], r[12]) for r in rows if r[10] in OPEN]
        print(f"  cases {min(first + BATCH - 1, cases):>9,}", end="\r", flush=True)
    supports: list[tuple[Any, ...]] = []
    for case_id, _filed in open_cases:
        if rng.random() < 0.2:
            backers = rng.sample(range(1, RESIDENTS + 1), rng.randint(1, 5))
            supports += [("case", case_id, r, at(NOW - timedelta(days=1))) for r in backers]
    proposal_rows: list[tuple[Any, ...]] = []
    start = NOW - timedelta(days=365 * YEARS)
    category_ids = list(codes.values())
    for number in range(1, proposals + 1):
        filed = start + timedelta(days=365 * YEARS * (number - 1 + rng.random()) / proposals)
        recent = NOW - filed < timedelta(days=60)
        status = "open" if recent or rng.random() < 0.03 else rng.choice(
            ["decided"] * 8 + ["closed", "withdrawn"]
        )  # fmt: skip
        words = f"建议解决{rng.choice(BUILDINGS)}号楼{rng.choice(PROBLEMS)}的问题"
        proposal_rows.append((
            number, 1 + rng.randrange(RESIDENTS), words, rng.choice(category_ids), status,
            at(filed), rng.choice([0, 0, 0, 1, 2]) if status == "open" else 0,
        ))  # fmt: skip
        backers = rng.sample(range(1, RESIDENTS + 1), rng.randint(0, 6))
        supports += [("proposal", number, r, at(filed + timedelta(days=1))) for r in backers]
    columns = ("id", "proposer_id", "text", "category_id", "status", "created_at", "deferred")
    await _insert(engine, "proposals", columns, proposal_rows)
    for i in range(0, len(supports), BATCH):
        await _insert(engine, "supports", ("subject", "subject_id", "resident_id", "at"),
                      supports[i : i + BATCH])  # fmt: skip
    meetings, items = [], []
    for month in range(YEARS * 12):
        year, month_of_year = divmod(NOW.year * 12 + NOW.month - 2 - month, 12)
        when = datetime(year, month_of_year + 1, 25, 11, 30, tzinfo=UTC)
        meetings.append((month + 1, when.strftime("%Y-%m"), at(when), "minuted", ""))
        for position in range(8):
            picked = [cid for cid, _f in rng.sample(open_cases, min(3, len(open_cases)))]
            outcome = "deferred" if position >= 6 else "decided"
            items.append((len(items) + 1, month + 1, position, "cases", "议题",
                          f"{picked}", 0.0, False, outcome))  # fmt: skip
    await _insert(engine, "meetings", ("id", "period", "starts_at", "status", "minutes"), meetings)
    columns = ("id", "meeting_id", "position", "kind", "title", "case_ids", "score",
               "dropped", "outcome")  # fmt: skip
    if not sqlite:  # asyncpg wants the JSON column as text it can cast, booleans as booleans
        await _insert(engine, "agenda_items", columns, items)
    else:
        await _insert(engine, "agenda_items", columns, [(*i[:7], 0, i[8]) for i in items])
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    print(f"  seeded {cases:,} cases ({len(open_cases):,} open), {proposals:,} proposals, "
          f"{len(supports):,} supports")  # fmt: skip


async def _digest(session: Any) -> Any:
    month_start = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # November, Asia/Shanghai
    return await compile_digest(
        session, buildings=BUILDINGS[:5], start=month_start - timedelta(days=31),
        end=month_start, now=NOW,
    )  # fmt: skip


async def run(url: str, *, cases: int, proposals: int, reuse: bool) -> None:
    sqlite_file = url.split("///", 1)[1] if url.startswith("sqlite") else None
    if sqlite_file and not reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(sqlite_file + suffix).unlink(missing_ok=True)
    engine = create_engine(url)
    async with engine.connect() as conn:
        try:
            have = (await conn.execute(text("SELECT count(*) FROM cases"))).scalar_one()
        except Exception:
            have = -1
    if not (reuse and have == cases):
        print(f"seeding {engine.dialect.name} ...")
        await empty_schema(engine)
        started = time.perf_counter()
        await seed(engine, cases=cases, proposals=proposals)
        print(f"  seeding took {time.perf_counter() - started:.0f} s")

    async def count(session: Any) -> Any:
        return (await session.exec(select(func.count()).select_from(Case))).one()

    async def hot(session: Any) -> Any:
        return await hot_issues(session, now=NOW)

    base_first, base = await first_and_best(engine, count)
    print(f"{engine.dialect.name}: {cases:,} cases, {proposals:,} proposals")
    print(f"  baseline SELECT count(*) FROM cases   first {base_first:7.3f} s  best {base:7.3f} s")
    for name, work in (("(a) hot_issues", hot), ("(b) monthly digest", _digest)):
        first, best = await first_and_best(engine, work)
        verdict = "ok" if max(first, best) < 1.0 else "OVER 1 s"
        print(f"  {name:<38} first {first:7.3f} s  best {best:7.3f} s  "
              f"ratio {best / base:6.2f}  {verdict}")  # fmt: skip
    async with session_scope(engine) as session:
        top = await hot_issues(session, now=NOW, limit=3)
    for issue in top:
        print(f"    {issue.score:7.2f}  {issue.kind:<8} residents {issue.residents:>3}  "
              f"{issue.title[:30]}")  # fmt: skip
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--proposals", type=int, default=50_000)
    parser.add_argument("--database-url", help="default: a SQLite file in the temp directory")
    parser.add_argument(
        "--reuse", action="store_true", help="skip seeding if the database already has --cases"
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.gettempdir()}/bench_agenda.db"
    asyncio.run(
        run(normalise_database_url(url), cases=args.cases, proposals=args.proposals,
            reuse=args.reuse)
    )  # fmt: skip


if __name__ == "__main__":
    main()
