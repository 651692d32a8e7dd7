"""Every figure against a small data set computed by hand (period: November 2026, Beijing)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.cases import categories, open_case
from storage.db import session_scope
from storage.deliberation.meeting_models import Decision, Meeting
from storage.errors import InvalidInput
from storage.figures.stats import figures
from storage.periods import month, parse_period, previous_month
from tests.storage.factories import resident

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 10, tzinfo=UTC)


def local(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=TZ).astimezone(UTC)


async def _build(s) -> None:
    wang = await resident(s)
    seq = iter(range(1, 100))

    async def case(
        code,
        filed,
        status,
        *,
        source="private",
        first=None,
        resolved=None,
        stars=None,
        due=None,
        building=None,
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
        c.building = building
        c.first_response_at = filed + timedelta(hours=first) if first is not None else None
        c.resolved_at = filed + timedelta(hours=resolved) if resolved is not None else None
        s.add(c)

    nov = local(2026, 11, 5)
    # Buildings: 3 has cases 1, 2, 4 and the October one; 5 has cases 3, 6 and a hazard.
    await case("safety", nov, "resolved", first=2, resolved=10, building="3")
    await case("safety", nov, "closed", first=4, resolved=20, stars=5, building="3")
    await case("property", nov, "reopened", first=1, building="5")  # resolved once, then "no"
    await case("property", nov, "rejected", building="3")
    await case("property", nov, "duplicate")
    await case("environment", nov, "new", due=NOW - timedelta(hours=1), building="5")  # overdue
    # the last half hour of November, resolved in December: counts for November
    await case("safety", local(2026, 11, 30, 23, 30), "closed", first=30, resolved=50, stars=3)
    await case("safety", local(2026, 12, 1, 0, 30), "new")  # December, local time
    await case("safety", nov, "resolved", source="inspection", resolved=5, building="5")
    await case("safety", nov, "in_progress", source="inspection")
    await case("group_rental", nov, "rejected", source="inspection")
    await case("safety", local(2026, 10, 3), "closed", first=1, resolved=2, building="3")
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


async def test_two_buildings_have_their_own_figures(engine: AsyncEngine) -> None:
    november = month(2026, 11, TZ)
    async with session_scope(engine) as s:
        await _build(s)
        three = await figures(s, period=november, now=NOW, building="3")
        five = await figures(s, period=november, now=NOW, building="5")
        nowhere = await figures(s, period=november, now=NOW, building="7")
        both = await figures(s, period=november, now=NOW, building="3", category="property")
    # 3: resolved (2 h, 10 h), closed (4 h, 20 h, 5 stars), rejected; October's closed case
    assert (three.building, three.demand.accepted, three.demand.handled) == ("3", 2, 2)
    assert (three.hazards.found, three.overdue_now, three.satisfaction.responses) == (0, 0, 1)
    assert three.first_response.count == 2
    assert three.first_response.median_hours == pytest.approx(2, abs=1e-3)
    assert three.resolution.p90_hours == pytest.approx(20, abs=1e-3)
    assert {(c.code, c.status): c.count for c in three.by_category} == {
        ("safety", "resolved"): 1,
        ("safety", "closed"): 1,
        ("property", "rejected"): 1,
    }
    trend = {m.month: (m.accepted, m.handled) for m in three.trend}
    assert trend["2026-11"] == (2, 2) and trend["2026-10"] == (1, 1)
    # 5: reopened (1 h), new and overdue; a rectified hazard (5 h)
    assert (five.demand.accepted, five.demand.handled, five.demand.completion_rate) == (2, 0, 0)
    assert (five.hazards.found, five.hazards.rectified, five.overdue_now) == (1, 1, 1)
    assert five.first_response.median_hours == pytest.approx(1, abs=1e-3)
    assert five.resolution.median_hours == pytest.approx(5, abs=1e-3)
    assert {m.month: m.accepted for m in five.trend}["2026-10"] == 0
    assert (nowhere.demand.accepted, nowhere.demand.completion_rate, nowhere.overdue_now) == (
        0,
        None,
        0,
    )
    assert (both.demand.accepted, [c.status for c in both.by_category]) == (0, ["rejected"])
    assert three.meetings is None and both.meetings is None  # the estate's, not a building's


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


async def _meetings(s) -> None:
    """Meetings and decisions written straight into their tables (no meeting code involved)."""
    nov20 = local(2026, 11, 20, 19)
    rows = [  # period, planned start, status, started, ended
        ("2026-11", nov20, "minuted", nov20, nov20 + timedelta(hours=2)),  # held in November
        ("2026-10", local(2026, 10, 25), "held", None, None),  # held: counts by its planned day
        ("2026-07", nov20, "minuted", local(2026, 11, 30, 23, 30), local(2026, 12, 1, 1)),
        ("2026-12", local(2026, 11, 28), "in_progress", local(2026, 11, 28), None),  # not yet
        ("2027-01", local(2026, 11, 15), "agenda_approved", None, None),  # planned only
    ]
    meetings = []
    for period, starts, status, started, ended in rows:
        meeting = Meeting(
            period=period, starts_at=starts, status=status, started_at=started, ended_at=ended
        )
        s.add(meeting)
        meetings.append(meeting)
    await s.flush()
    decisions = [  # meeting, taken, status, done
        (0, nov20, "done", local(2026, 11, 25)),  # taken and done in November
        (0, nov20, "open", None),
        (0, nov20, "done", local(2026, 12, 3)),  # taken in November, done in December
        (0, nov20, "dropped", None),  # abandoned: not counted as taken
        (1, local(2026, 10, 25), "done", local(2026, 11, 2)),  # October's, done in November
    ]
    for index, taken, status, done in decisions:
        s.add(
            Decision(
                meeting_id=meetings[index].id,
                text="修缮车棚",
                status=status,
                created_at=taken,
                done_at=done,
            )
        )
    await s.flush()


async def test_meetings_held_and_decisions_done(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        await _meetings(s)
        nov = (await figures(s, period=month(2026, 11, TZ), now=NOW)).meetings
        oct_ = (await figures(s, period=month(2026, 10, TZ), now=NOW)).meetings
        dec = (await figures(s, period=month(2026, 12, TZ), now=NOW)).meetings
        empty = (await figures(s, period=month(2025, 1, TZ), now=NOW)).meetings
        year = await figures(s, period=parse_period("2026", tz=TZ, today=NOW.date()), now=NOW)
    assert nov is not None and oct_ is not None and dec is not None and empty is not None
    assert (nov.held, nov.taken, nov.done, nov.taken_done) == (2, 3, 2, 2)
    assert nov.completion_rate == pytest.approx(2 / 3)
    assert (oct_.held, oct_.taken, oct_.done, oct_.completion_rate) == (1, 1, 0, 1.0)
    assert (dec.held, dec.taken, dec.done, dec.completion_rate) == (0, 0, 1, None)
    assert (empty.held, empty.taken, empty.done, empty.completion_rate) == (0, 0, 0, None)
    assert year.meetings is not None
    assert (year.meetings.held, year.meetings.taken, year.meetings.done) == (3, 4, 3)
