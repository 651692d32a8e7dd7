"""Every figure against a small data set computed by hand (period: November 2026, Beijing)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import categories
from storage.cases import open_case
from storage.db import session_scope
from storage.errors import InvalidInput
from storage.periods import month, parse_period, previous_month
from storage.stats import figures
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 10, tzinfo=UTC)


def local(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=TZ).astimezone(UTC)


async def _build(s) -> None:
    wang = await resident(s)
    seq = iter(range(1, 100))

    async def case(
        code, filed, status, *, source="private", first=None, resolved=None, stars=None, due=None
    ):
        category = await categories.category_by_code(s, code)
        c, _ = await open_case(
            s,
            reporter=wang,
            category=category,
            text="测试",
            source=source,
            source_chat_id=1,
            source_message_id=next(seq),
        )
        c.created_at, c.status, c.satisfaction, c.due_at = filed, status, stars, due
        c.first_response_at = filed + timedelta(hours=first) if first is not None else None
        c.resolved_at = filed + timedelta(hours=resolved) if resolved is not None else None
        s.add(c)

    nov = local(2026, 11, 5)
    await case("safety", nov, "resolved", first=2, resolved=10)
    await case("safety", nov, "closed", first=4, resolved=20, stars=5)
    await case("property", nov, "reopened", first=1)  # resolved once, the resident said no
    await case("property", nov, "rejected")
    await case("property", nov, "duplicate")
    await case("environment", nov, "new", due=NOW - timedelta(hours=1))  # overdue now
    # the last half hour of November, resolved in December: counts for November
    await case("safety", local(2026, 11, 30, 23, 30), "closed", first=30, resolved=50, stars=3)
    await case("safety", local(2026, 12, 1, 0, 30), "new")  # December, local time
    await case("safety", nov, "resolved", source="inspection", resolved=5)
    await case("safety", nov, "in_progress", source="inspection")
    await case("group_rental", nov, "rejected", source="inspection")
    await case("safety", local(2026, 10, 3), "closed", first=1, resolved=2)  # October
    await s.flush()


async def test_november_by_hand(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        await _build(s)
        got = await figures(s, period=month(2026, 11, TZ), now=NOW)
    assert (got.demand.accepted, got.demand.handled) == (5, 3)
    assert got.demand.completion_rate == pytest.approx(0.6)
    assert (got.hazards.found, got.hazards.rectified) == (2, 1)
    assert got.hazards.rectification_rate == pytest.approx(0.5)
    assert got.first_response.count == 4  # hours 1, 2, 4, 30
    assert got.first_response.median_hours == pytest.approx(2, abs=1e-3)
    assert got.first_response.p90_hours == pytest.approx(30, abs=1e-3)
    assert got.resolution.count == 4  # hours 5, 10, 20, 50
    assert got.resolution.median_hours == pytest.approx(10, abs=1e-3)
    assert got.resolution.p90_hours == pytest.approx(50, abs=1e-3)
    assert got.overdue_now == 1
    assert (got.satisfaction.responses, got.satisfaction.average) == (2, pytest.approx(4.0))
    counts = {(c.code, c.status): c.count for c in got.by_category}
    assert counts[("safety", "resolved")] == 2 and counts[("property", "rejected")] == 1
    assert sum(counts.values()) == 10
    trend = {m.month: (m.accepted, m.handled) for m in got.trend}
    assert len(got.trend) == 12 and got.trend[-1].month == "2026-11"
    assert trend["2026-11"] == (5, 3) and trend["2026-10"] == (1, 1) and trend["2026-01"] == (0, 0)


async def test_a_category_and_an_empty_period(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        await _build(s)
        safety = await figures(s, period=month(2026, 11, TZ), now=NOW, category="safety")
        empty = await figures(s, period=month(2025, 1, TZ), now=NOW)
    assert (safety.demand.accepted, safety.demand.handled) == (3, 3)
    assert (empty.demand.accepted, empty.demand.completion_rate) == (0, None)
    assert empty.hazards.rectification_rate is None
    assert empty.first_response == empty.resolution
    assert (empty.first_response.median_hours, empty.satisfaction.average) == (None, None)


def test_periods() -> None:
    today = date(2026, 11, 27)
    assert parse_period(None, tz=TZ, today=today).label == "2026-11"
    november = parse_period("2026-11", tz=TZ, today=today)
    assert november.start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert parse_period("2026", tz=TZ, today=today).last_day == date(2026, 12, 31)
    assert parse_period("2026-11-01..2026-11-15", tz=TZ, today=today).last_day.day == 15
    assert previous_month(date(2026, 1, 1), TZ).label == "2025-12"
    for bad in ("2026-13", "abc", "2026-11-15..2026-11-01", "1999", "2026-02-30..2026-03-01"):
        with pytest.raises(InvalidInput):
            parse_period(bad, tz=TZ, today=today)
