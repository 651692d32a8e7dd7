"""Benchmark: Open311 `GET requests.json` over a big case store, with a baseline.

Fills a fresh database with a year of a busy district (bench/stats_data.py: 1,000,000 cases
and their events by default), ending now, then times the whole HTTP path of
`GET /open311/v2/requests.json` in-process (Starlette app through httpx's ASGI transport:
parsing, the query, the last public event per case, JSON) for the default request (the last
90 days, the default page), an explicit 90-day window in mid-year, and a filtered one. The
baseline, measured in the same run, is the bare SQL of the same page: the case rows of the
window, newest first, LIMIT page size. Target: under 200 ms.

    python bench/open311.py                          # 1,000,000 cases on a fresh SQLite file
    python bench/open311.py --cases 100000           # a quick run
    python bench/open311.py --database-url postgresql://postgres@127.0.0.1:5432/bench_open311
    python bench/open311.py --keep /tmp/o311.db      # seed once, reuse on later runs
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bench.harness import fresh_engine  # noqa: E402
from bench.stats_data import generate  # noqa: E402
from bot.config import Settings, normalise_database_url  # noqa: E402
from bot.open311.api import PAGE_SIZE  # noqa: E402
from bot.web import build_web_app  # noqa: E402
from storage.db import create_engine, migrate  # noqa: E402

TARGET = 0.200
RUNS = 7


async def _prepare(url: str, cases: int, keep: bool) -> tuple[AsyncEngine, int, float]:
    engine = create_engine(url)
    if keep:
        try:
            async with engine.connect() as conn:
                count = int((await conn.execute(text("SELECT count(*) FROM cases"))).scalar())
            if count:
                await migrate(engine)
                print("reusing the kept database (its own cases; --cases is ignored)")
                return engine, count, 0.0
        except Exception:  # no such table yet: seed it
            pass
    await engine.dispose()
    started = time.perf_counter()
    engine = await fresh_engine(url)
    now = datetime.now(UTC)
    totals = await generate(engine, cases=cases, start=now - timedelta(days=365), end=now)
    async with engine.connect() as conn:
        live = await conn.execution_options(isolation_level="AUTOCOMMIT")
        sql = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        await live.execute(text(sql))
    return engine, totals["cases"], time.perf_counter() - started


async def _timed(call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(first run, median of the next RUNS) in seconds."""
    started = time.perf_counter()
    await call()
    first = time.perf_counter() - started
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return first, statistics.median(times)


def _w3c(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _run(url: str, args: argparse.Namespace) -> None:
    engine, cases, loaded = await _prepare(url, args.cases, bool(args.keep))
    backend = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    print(f"open311 benchmark on {backend}: {cases:,} cases" + (
        f", loaded in {loaded:.0f} s" if loaded else ""
    ))  # fmt: skip
    settings = Settings(database_url=url)
    app = build_web_app(settings, engine)
    transport = httpx.ASGITransport(app=app)
    now = datetime.now(UTC)
    mid_end = now - timedelta(days=150)
    mid = f"start_date={_w3c(mid_end - timedelta(days=90))}&end_date={_w3c(mid_end)}"
    queries = {
        "default (last 90 days)": "",
        "mid-year 90-day window": mid,
        "window + code + closed": mid + "&service_code=property&status=closed",
        "window, page 50": mid + "&page=50",
    }
    baseline_sql = text(
        "SELECT * FROM cases WHERE created_at >= :start AND created_at <= :end "
        "ORDER BY created_at DESC, id DESC LIMIT :size"
    )
    bounds = {"start": now - timedelta(days=90), "end": now, "size": PAGE_SIZE}
    if engine.dialect.name == "sqlite":
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        bounds |= {"start": bounds["start"].strftime(fmt), "end": bounds["end"].strftime(fmt)}

    async def baseline() -> None:
        async with engine.connect() as conn:
            rows = (await conn.execute(baseline_sql, bounds)).all()
        assert len(rows) == PAGE_SIZE

    _, base = await _timed(baseline)
    print(f"baseline: bare SQL of the default page ({PAGE_SIZE} rows): {base * 1000:.1f} ms")
    print(f"{'GET requests.json':<26} {'rows':>5} {'first ms':>9} {'median ms':>10} {'ratio':>7}")
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for label, query in queries.items():
            got: list[int] = []

            async def call(query: str = query, got: list[int] = got) -> None:
                answer = await client.get(f"/open311/v2/requests.json?{query}")
                assert answer.status_code == 200, answer.text
                got[:] = [len(answer.json())]

            first, median = await _timed(call)
            verdict = "ok" if median < TARGET else "OVER"
            print(
                f"{label:<26} {got[0]:>5} {first * 1000:>9.1f} {median * 1000:>10.1f} "
                f"{median / base:>7.1f}   target < {TARGET * 1000:.0f} ms: {verdict}"
            )
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--keep",
        metavar="SQLITE_FILE",
        help="a SQLite file kept between runs (or, with --database-url, keep that database)",
    )
    args = parser.parse_args()
    if args.keep and not args.database_url:
        args.database_url = f"sqlite:///{Path(args.keep).resolve()}"
    with tempfile.TemporaryDirectory() as tmp:
        url = normalise_database_url(args.database_url or f"sqlite:///{tmp}/bench.db")
        await _run(url, args)


if __name__ == "__main__":
    asyncio.run(main())
