"""Benchmark: the office's figures over a year of a busy district, and a big export.

Fills a fresh database with a year of cases (bench/stats_data.py), builds the figures' rollup
(storage/figures/stats_rollup.py), then times storage.figures.stats.figures for one month and for
the whole year (first run, and best of 3) against a baseline from the same run: a plain
`SELECT count(*)` of the same period's cases; with --live, also the same figures read live from
the cases (no rollup), once. It then lists the statements of one year's figures by time
(EXPLAIN of the slowest when the year takes over a second), and exports about 100,000 cases to
.xlsx in a fresh process: time against the time to read the same rows without writing them, and
peak memory (VmHWM, and tracemalloc's peak).

    python bench/stats.py                       # 1,000,000 cases on a fresh SQLite file
    python bench/stats.py --cases 50000         # a quick run
    python bench/stats.py --database-url postgresql://postgres@127.0.0.1:5432/bench_stats
    python bench/stats.py --keep /tmp/stats-1m.db   # seed once, reuse the file on later runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from sqlmodel import col  # noqa: E402

from bench.harness import first_and_best, fresh_engine, timed  # noqa: E402
from bench.stats_data import generate  # noqa: E402
from bot.config import normalise_database_url  # noqa: E402
from storage.db import create_engine, migrate  # noqa: E402
from storage.figures.stats import figures  # noqa: E402
from storage.figures.stats_rollup import ensure_rollup  # noqa: E402
from storage.models import Case  # noqa: E402
from storage.periods import Period, month, parse_period  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def _count(period: Period) -> Any:
    where = (col(Case.created_at) >= period.start, col(Case.created_at) < period.end)
    return lambda s: s.exec(select(func.count()).select_from(Case).where(*where))


def _figures(period: Period, now: Any, rollup: bool = True) -> Any:
    return lambda s: figures(s, period=period, now=now, rollup=rollup)


async def _statements(
    engine: AsyncEngine, period: Period, now: Any
) -> list[tuple[float, str, Any]]:
    """Every statement one run of figures() sends, with its time, slowest first."""
    seen: list[tuple[float, str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((time.perf_counter() - conn.info["started"], statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    try:
        await timed(engine, _figures(period, now))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "after_cursor_execute", after)
    return sorted((s for s in seen if "BEGIN" not in s[1]), key=lambda s: -s[0])


async def _explain(engine: AsyncEngine, statement: str, params: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    async with engine.connect() as conn:
        rows = (await conn.exec_driver_sql(prefix + statement, params)).all()
    return [" | ".join(str(v) for v in row) for row in rows]


def _export_period(cases: int, export: int, year: int) -> Period:
    if export >= cases:
        return parse_period(str(year), tz=TZ, today=date(year, 1, 1))
    days = max(1, math.ceil(365 * export / cases))
    last = date(year, 1, 1) + timedelta(days=days - 1)
    return parse_period(f"{year}-01-01..{last}", tz=TZ, today=last)


async def _export_child(url: str, period_text: str) -> None:
    """In a fresh process: read the rows, then export them, then export again traced."""
    import tracemalloc

    from handlers.office.export_files import write_xlsx
    from storage.figures.exports import chunks

    period = parse_period(period_text, tz=TZ, today=date.today())
    engine = create_engine(url)
    now = period.end + timedelta(days=5)
    started = time.perf_counter()
    rows = sum([len(c.cases) + len(c.events) async for c in chunks(engine, period=period)])
    read = time.perf_counter() - started
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS, so the peak is the export's
    rss_before = _status("VmRSS")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.xlsx"
        started = time.perf_counter()
        written = await write_xlsx(path, engine, period=period, now=now)
        seconds = time.perf_counter() - started
        hwm, size = _status("VmHWM"), path.stat().st_size
        tracemalloc.start()
        await write_xlsx(path, engine, period=period, now=now)
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    await engine.dispose()
    result = {"rows_read": rows, "read": read, "seconds": seconds, "cases": written.cases}
    result |= {"events": written.events, "rss": rss_before, "hwm": hwm, "mib": size / 2**20}
    print(json.dumps(result | {"traced": traced}))


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _export(url: str, period: Period) -> dict[str, Any]:
    command = [sys.executable, __file__, "--export-child", period.label, "--database-url", url]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--export-cases", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--keep",
        metavar="SQLITE_FILE",
        help="a SQLite file kept between runs (or, with --database-url, keep that database): "
        "seeded on the first run, reused (and migrated) on later ones",
    )
    parser.add_argument("--no-export", action="store_true", help="time the figures only")
    parser.add_argument(
        "--live", action="store_true", help="also time the figures read live (no rollup), once"
    )
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        await _export_child(normalise_database_url(args.database_url), args.export_child)
        return
    if args.keep and not args.database_url:
        args.database_url = f"sqlite:///{Path(args.keep).resolve()}"
    with tempfile.TemporaryDirectory() as tmp:
        url = normalise_database_url(args.database_url or f"sqlite:///{tmp}/bench.db")
        await _run(url, args)


async def _kept(url: str) -> tuple[AsyncEngine, dict[str, int]] | None:
    """The database of an earlier run, migrated to the current schema; None if there is none."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            counts = {
                table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar())
                for table in ("cases", "case_events", "disputes", "hazards")
            }
    except Exception:  # no such table: a new file or an empty database
        await engine.dispose()
        return None
    if not counts["cases"]:
        await engine.dispose()
        return None
    await migrate(engine)
    return engine, {"cases": counts["cases"], "events": counts["case_events"]} | {
        k: counts[k] for k in ("disputes", "hazards")
    }


async def _run(url: str, args: argparse.Namespace) -> None:
    year = parse_period(str(args.year), tz=TZ, today=date(args.year, 1, 1))
    kept = await _kept(url) if args.keep else None
    started = time.perf_counter()
    if kept is None:
        engine = await fresh_engine(url)
        totals = await generate(engine, cases=args.cases, start=year.start, end=year.end)
    else:
        engine, totals = kept
        print("reusing the kept database (its own number of cases; --cases is ignored)")
    loaded = time.perf_counter() - started
    # As on a live database: planner statistics, and on PostgreSQL the visibility map and hint
    # bits that autovacuum would have set (else the first reads rewrite every page).
    async with engine.connect() as conn:
        live = await conn.execution_options(isolation_level="AUTOCOMMIT")
        sql = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        await live.execute(text(sql))
    backend = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    print(f"stats benchmark on {backend}: " + ", ".join(f"{v:,} {k}" for k, v in totals.items()))
    if kept is None:
        print(f"loaded in {loaded:.1f} s ({totals['cases'] / loaded:,.0f} cases/s)")
    now = year.end + timedelta(days=5)
    # The cases went in by raw SQL, past the rollup's hook: the first figures build it (as
    # after an upgrade to migration 0006), here timed on its own.
    built = await timed(engine, lambda s: ensure_rollup(s, TZ))
    print(f"rollup (re)built from the cases in {built:.1f} s (0 if a kept database had it)")
    heading = f"{'figures for':<12} {'first s':>8} {'best s':>8} {'count(*) s':>11} {'ratio':>7}"
    print(f"{heading} {'live s':>8} {'live/rollup':>11}")
    for period in (month(args.year, 11, TZ), year):
        first, best = await first_and_best(engine, _figures(period, now))
        _, baseline = await first_and_best(engine, _count(period))
        live = await timed(engine, _figures(period, now, rollup=False)) if args.live else 0.0
        line = f"{period.label:<12} {first:>8.3f} {best:>8.3f} {baseline:>11.4f}"
        line += f" {best / baseline:>7.1f} {live:>8.3f} {live / best:>11.1f}"
        print(f"{line}   target < 1 s: {'ok' if best < 1 else 'OVER'}")
    for period in (month(args.year, 11, TZ), year):
        statements = await _statements(engine, period, now)
        total = sum(s[0] for s in statements)
        print(f"statements of {period.label}'s figures ({total:.3f} s in all), slowest first:")
        for seconds, statement, _params in statements[:6]:
            print(f"  {seconds:7.3f} s  {' '.join(statement.split())[:150]}")
    if total > 1:
        print("plan of the slowest:")
        for line in await _explain(engine, statements[0][1], statements[0][2]):
            print("  " + line)
    await engine.dispose()
    if args.no_export:
        return
    period = _export_period(totals["cases"], args.export_cases, args.year)
    got = await _export(url, period)
    print(
        f"export {period.label}: {got['cases']:,} cases, {got['events']:,} events -> "
        f"{got['mib']:.1f} MiB .xlsx in {got['seconds']:.1f} s; reading the same rows "
        f"alone: {got['read']:.1f} s (ratio {got['seconds'] / got['read']:.1f})"
    )
    print(
        f"export memory: VmHWM {got['hwm']:.0f} MiB from VmRSS {got['rss']:.0f} MiB "
        f"(+{got['hwm'] - got['rss']:.0f} MiB); tracemalloc peak {got['traced']:.1f} MiB"
    )


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    asyncio.run(main())
