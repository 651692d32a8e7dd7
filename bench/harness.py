"""What the benchmarks share: an empty database to seed, and timing a unit of work."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases.categories import seed_categories
from storage.cases.routing import seed_units_and_routes
from storage.db import create_engine, migrate, session_scope


async def empty_schema(engine: AsyncEngine, *, defaults: bool = True) -> None:
    """Drop whatever a PostgreSQL database holds, migrate, and (by default) seed the default
    categories, units and routes. A SQLite file is expected to be new."""
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await migrate(engine)
    if defaults:
        async with session_scope(engine) as session:
            await seed_categories(session)
            await seed_units_and_routes(session)


async def fresh_engine(url: str) -> AsyncEngine:
    """An engine on an emptied, migrated database with the defaults seeded."""
    engine = create_engine(url)
    await empty_schema(engine)
    return engine


Work = Callable[[AsyncSession], Awaitable[Any]]


async def timed(engine: AsyncEngine, work: Work) -> float:
    """Seconds `work` takes in one transaction (opening it is not counted)."""
    async with session_scope(engine) as session:
        started = time.perf_counter()
        await work(session)
        return time.perf_counter() - started


async def first_and_best(engine: AsyncEngine, work: Work, *, runs: int = 3) -> tuple[float, float]:
    """The first (cold) time, and the best of `runs` more."""
    first = await timed(engine, work)
    return first, min([await timed(engine, work) for _ in range(runs)])
