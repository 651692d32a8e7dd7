"""When the monthly meeting is, and when each of its steps falls due.

The meeting of a month (its period, "2026-12") is on a configured day (default the last
Saturday) at a local time (default 19:30). Each step is a whole number of days before or after
it, at the same local clock time: T-10 call for topics, T-3 draft agenda, T-2 agenda posted,
T-1 reminder, T the meeting, T+1 minutes. A step is due from its time until the next step's
time (the last one for a week), so a step missed while the bot was down is made up if the bot
is back before the next step, and a stale one (a call for topics after the agenda went out)
is never sent.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

STEPS = ("topics", "draft", "agenda", "reminder", "meeting", "minutes")
DEFAULT_OFFSETS = {"topics": -10, "draft": -3, "agenda": -2, "reminder": -1, "meeting": 0}
DEFAULT_OFFSETS["minutes"] = 1
LAST_STEP_WINDOW = timedelta(days=7)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = re.compile(r"^(last|[1-4])-(mon|tue|wed|thu|fri|sat|sun)$|^([1-9]|1\d|2[0-8])$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Step:
    period: str  # the meeting's month, "2026-12"
    name: str  # one of STEPS
    at: datetime  # UTC
    until: datetime  # UTC: when the next step takes over


@dataclass(frozen=True)
class MeetingPlan:
    day: str
    at: time
    offsets: dict[str, int]
    tz: ZoneInfo

    @classmethod
    def parse(cls, day: str, at: str, steps: str, tz: ZoneInfo) -> MeetingPlan:
        hours, minutes = (int(part) for part in parse_plan_setting("meeting_time", at).split(":"))
        return cls(
            parse_plan_setting("meeting_day", day), time(hours, minutes), _offsets(steps), tz
        )

    def meeting_date(self, period: str) -> date:
        year, month = (int(part) for part in period.split("-"))
        match = _DAY.match(self.day)
        assert match is not None
        if match[3]:
            return date(year, month, int(match[3]))
        weekday = WEEKDAYS.index(match[2])
        days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month]
        fitting = [d for d in days if d.weekday() == weekday]
        return fitting[-1] if match[1] == "last" else fitting[int(match[1]) - 1]

    def starts_at(self, period: str) -> datetime:
        return datetime.combine(self.meeting_date(period), self.at, self.tz).astimezone(UTC)

    def step_at(self, period: str, name: str) -> datetime:
        local = datetime.combine(self.meeting_date(period), self.at)
        moved = local + timedelta(days=self.offsets[name])  # local clock time, DST-proof
        return moved.replace(tzinfo=self.tz).astimezone(UTC)

    def steps(self, period: str) -> list[Step]:
        times = [(name, self.step_at(period, name)) for name in STEPS]
        found = []
        for name, at in times:
            later = [t for _n, t in times if t > at]
            found.append(Step(period, name, at, min(later) if later else at + LAST_STEP_WINDOW))
        return found

    def due_steps(self, now: datetime) -> list[Step]:
        """The steps due at `now`, of last month's, this month's and next month's meetings."""
        return sorted(
            (s for p in self.periods_around(now) for s in self.steps(p) if s.at <= now < s.until),
            key=lambda s: s.at,
        )

    def periods_around(self, now: datetime) -> list[str]:
        local = now.astimezone(self.tz).date().replace(day=1)
        before = (local - timedelta(days=1)).replace(day=1)
        after = (local + timedelta(days=32)).replace(day=1)
        return [f"{d.year}-{d.month:02d}" for d in (before, local, after)]

    def current_period(self, now: datetime) -> str:
        """The meeting people mean by "the meeting" at `now`: the earliest one whose minutes
        are not yet due."""
        for period in self.periods_around(now):
            if now < self.step_at(period, "minutes"):
                return period
        return self.periods_around(now)[-1]


def _offsets(text: str) -> dict[str, int]:
    offsets = dict(DEFAULT_OFFSETS)
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _sep, days = part.partition("=")
        if name.strip() not in STEPS:
            raise ValueError(f"knows the steps {', '.join(STEPS)}, not {name.strip()!r}")
        try:
            offsets[name.strip()] = int(days)
        except ValueError:
            raise ValueError(f"needs whole days for {name.strip()}, like topics=-10") from None
    if offsets["meeting"] != 0:
        raise ValueError("meeting is the meeting itself: meeting=0")
    ordered = [offsets[name] for name in STEPS]
    if ordered != sorted(ordered) or not -27 <= ordered[0] <= ordered[-1] <= 27:
        raise ValueError(f"must keep the order {', '.join(STEPS)} within 27 days of the meeting")
    return offsets


def parse_plan_setting(field: str, value: str) -> str:
    """Check one of the meeting settings (bot/config.py); ValueError says what is expected."""
    value = value.strip().lower()
    if field == "meeting_day" and not _DAY.match(value):
        raise ValueError("must be like last-sat, 2-wed, or a day of the month from 1 to 28")
    if field == "meeting_time" and not _TIME.match(value):
        raise ValueError("must be a local time like 19:30")
    if field == "meeting_steps":
        _offsets(value)
    return value
