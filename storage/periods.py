"""Reporting periods: "2026-11", "2026", "2026-11-01..2026-11-15", or none (this month).

Periods are local calendar spans (the office counts in Beijing time); the bounds are UTC
instants, start inclusive and end exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\.\.(\d{4}-\d{1,2}-\d{1,2})$")


@dataclass(frozen=True)
class Period:
    label: str
    first_day: date
    last_day: date  # inclusive
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        after = self.last_day + timedelta(days=1)
        return datetime.combine(after, time(), self.tz).astimezone(UTC)


def month(year: int, month_: int, tz: ZoneInfo) -> Period:
    if not (1 <= month_ <= 12 and 2000 <= year <= 2100):
        raise InvalidInput("bad_period")
    first = date(year, month_, 1)
    following = date(year + month_ // 12, month_ % 12 + 1, 1)
    return Period(f"{year}-{month_:02d}", first, following - timedelta(days=1), tz)


def parse_period(text: str | None, *, tz: ZoneInfo, today: date) -> Period:
    """What a secretary typed after /stats or /export; InvalidInput("bad_period") if unclear."""
    text = (text or "").strip()
    if not text:
        return month(today.year, today.month, tz)
    if match := _MONTH.match(text):
        return month(int(match[1]), int(match[2]), tz)
    if match := _YEAR.match(text):
        year = int(match[1])
        if not 2000 <= year <= 2100:
            raise InvalidInput("bad_period")
        return Period(str(year), date(year, 1, 1), date(year, 12, 31), tz)
    if match := _RANGE.match(text):
        try:
            first, last = date.fromisoformat(_pad(match[1])), date.fromisoformat(_pad(match[2]))
        except ValueError:
            raise InvalidInput("bad_period") from None
        if last < first or (last - first).days > 3660:
            raise InvalidInput("bad_period")
        return Period(f"{first}..{last}", first, last, tz)
    raise InvalidInput("bad_period")


def _pad(day: str) -> str:
    year, month_, dd = day.split("-")
    return f"{year}-{int(month_):02d}-{int(dd):02d}"


def previous_month(today: date, tz: ZoneInfo) -> Period:
    first_this = today.replace(day=1)
    last_prev = first_this - timedelta(days=1)
    return month(last_prev.year, last_prev.month, tz)
