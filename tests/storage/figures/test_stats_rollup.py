"""The rollup gives exactly the live figures, on random cases changed at random (ORM writes)."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.config import load_settings
from bot.telegram.runner import prepare_database
from storage.cases import Status, open_case
from storage.db import session_scope
from storage.figures.stats import figures
from storage.figures.stats_models import CaseTally, DurationTally, RollupState
from storage.figures.stats_rollup import ensure_rollup, whole_minutes
from storage.models import Case, CaseEvent, Category
from storage.periods import month, parse_period
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 1, 20, tzinfo=UTC)
START = datetime(2025, 11, 20, tzinfo=UTC)
BUILDINGS = [None, "3", "5", "12"]


def _moment(rng: random.Random) -> datetime:
    if rng.random() < 0.1:  # exactly on a local month's first instant
        return month(2026, rng.randint(1, 12), TZ).start
    return START + timedelta(seconds=rng.uniform(0, 430 * 86400))


def _shuffle(case: Case, rng: random.Random, categories: list[int]) -> None:
    """Change some of what the figures read, as any code through the ORM might."""
    if rng.random() < 0.5:
        case.created_at = _moment(rng)
    if rng.random() < 0.7:
        case.status = rng.choice(list(Status))
    if rng.random() < 0.3:
        case.category_id = rng.choice(categories)
    if rng.random() < 0.3:
        case.building = rng.choice(BUILDINGS)
    if rng.random() < 0.2:
        case.source = rng.choice(["private", "group", "inspection"])
    if rng.random() < 0.3:  # not read by the figures: no tally changes
        case.reminded_at = _moment(rng)
    if rng.random() < 0.4:
        case.satisfaction = rng.choice([None, 1, 2, 3, 4, 5])
    for name in ("first_response_at", "resolved_at"):
        if rng.random() < 0.5:
            later = case.created_at + timedelta(seconds=rng.uniform(0, 300 * 3600))
            setattr(case, name, rng.choice([None, later, case.created_at + timedelta(hours=2)]))


async def _tallies(s) -> tuple[list, list]:
    counts = await s.exec(select(CaseTally).where(col(CaseTally.cases) != 0))
    minutes = await s.exec(select(DurationTally).where(col(DurationTally.cases) != 0))
    key = lambda row: tuple(str(v) for v in row.model_dump().values())  # noqa: E731
    return sorted(key(r) for r in counts.all()), sorted(key(r) for r in minutes.all())


async def test_the_rollup_gives_exactly_the_live_figures(engine: AsyncEngine) -> None:
    rng = random.Random(2026)
    async with session_scope(engine) as s:
        await ensure_rollup(s, TZ)  # built while empty: every case below goes through the hook
        wang = await resident(s)
        cats = list((await s.exec(select(Category))).all())
        ids = [c.id for c in cats]
        for n in range(150):
            case, _ = await open_case(
                s,
                reporter=wang,
                category=rng.choice(cats),
                text="随机",
                source=rng.choice(["private", "group", "inspection"]),
                source_chat_id=1,
                source_message_id=n,
            )
            _shuffle(case, rng, ids)
            if n % 40 == 0:
                await s.flush()  # changes across several flushes of one transaction
    for _ in range(3):  # later transactions change, move and delete cases
        async with session_scope(engine) as s:
            cases = list((await s.exec(select(Case))).all())
            for case in rng.sample(cases, 50):
                _shuffle(case, rng, ids)
                s.add(case)
            await s.flush()
            for case in rng.sample(cases, 5):
                for event in (
                    await s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))
                ).all():
                    await s.delete(event)
                await s.flush()  # the events first: no relationship tells the ORM the order
                await s.delete(case)
    year = parse_period("2026", tz=TZ, today=date(2026, 1, 1))
    periods = [year, month(2025, 11, TZ), month(2026, 3, TZ), month(2026, 12, TZ)]
    for days in ("2026-02-01..2026-02-28", "2026-02-03..2026-03-10"):  # whole month; not
        periods.append(parse_period(days, tz=TZ, today=date(2026, 1, 1)))
    narrowings = [(None, None), ("safety", None), (None, "3"), ("property", "5"), (None, "7")]
    async with session_scope(engine) as s:
        for period in periods:
            for category, building in narrowings:
                args = {"period": period, "now": NOW, "category": category, "building": building}
                tallied = await figures(s, **args)
                live = await figures(s, **args, rollup=False)
                assert tallied == live, (period.label, category, building)
        assert (await figures(s, period=year, now=NOW)).demand.accepted > 20  # not all empty
        kept = await _tallies(s)
        assert kept[0] and kept[1]
        await s.exec(text("UPDATE stats_rollup_state SET tz = NULL"))  # type: ignore[call-overload]
        s.info.clear()
        await ensure_rollup(s, TZ)  # built afresh from the cases as they are now
        assert await _tallies(s) == kept
        # and the figures do read the tallies: a tampered tally shows
        await s.exec(text("UPDATE stats_case_tallies SET cases = cases + 1000"))  # type: ignore[call-overload]
        tampered = await figures(s, period=year, now=NOW)
        assert (
            tampered.demand.accepted
            > 1000
            > (await figures(s, period=year, now=NOW, rollup=False)).demand.accepted
        )


def test_whole_minutes_drop_the_seconds_fractions() -> None:
    at = datetime(2026, 11, 1, 8, 0, 59, 999999, tzinfo=UTC)
    assert whole_minutes(at + timedelta(microseconds=1), at) == 0  # 8:01:00 - 8:00:59
    assert whole_minutes(at + timedelta(seconds=59, microseconds=2), at) == 1  # 8:01:59 - 8:00:59
    assert whole_minutes(at + timedelta(hours=2), at) == 120
    assert whole_minutes(at, at + timedelta(seconds=61)) == -1  # toward zero


async def test_start_up_builds_the_tallies_in_the_estates_zone(database_url: str) -> None:
    settings = load_settings(database_url=database_url, timezone="Asia/Shanghai")
    engine = await prepare_database(settings)
    try:
        async with session_scope(engine) as s:
            state = await s.get(RollupState, 1)
        assert state is not None and state.tz == "Asia/Shanghai" and state.built_at is not None
    finally:
        await engine.dispose()
