"""Reading a whistle's deadline as a secretary types it: "3d", "48h", "2026-12-05 18:00"."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.errors import InvalidInput

SHORTEST = timedelta(minutes=10)  # less leaves nobody time to answer
LONGEST = timedelta(days=60)

_SPAN = re.compile(
    r"^(\d{1,4})\s*(d|day|days|天|日|h|hr|hrs|hour|hours|小时|个小时|m|min|mins|minutes|分钟)$"
)
_UNITS = {
    "d": "days", "day": "days", "days": "days", "天": "days", "日": "days",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "小时": "hours", "个小时": "hours",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minutes": "minutes", "分钟": "minutes",
}  # fmt: skip
_DATE = re.compile(
    r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})[日号]?"
    r"(?:[\sT]+(\d{1,2})(?:[:：点](\d{2})?)?分?)?$"
)
END_OF_DAY = time(23, 59)


def parse_deadline(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """The deadline (aware UTC) meant by `text`, read in the estate's zone `tz`.

    A span ("3d", "48h", "90m", "3天") counts from `now`; a date ("2026-12-05 18:00",
    "12-05 18:00", "12月5日") is local, without a year the next such date, without a time
    23:59. InvalidInput("deadline_format" | "deadline_past" | "deadline_too_far").
    """
    words = " ".join((text or "").strip().lower().split())
    if span := _SPAN.match(words.replace(" ", "")):
        deadline = now + timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    elif when := _DATE.match(words):
        deadline = _local_date(when, now=now, tz=tz)
    else:
        raise InvalidInput("deadline_format")
    if deadline < now + SHORTEST:
        raise InvalidInput("deadline_past")
    if deadline > now + LONGEST:
        raise InvalidInput("deadline_too_far", days=LONGEST.days)
    return deadline


def _local_date(when: re.Match[str], *, now: datetime, tz: ZoneInfo) -> datetime:
    year, month, day, hour, minute = when.groups()
    local_now = now.astimezone(tz)
    try:
        at = time(int(hour), int(minute or 0)) if hour is not None else END_OF_DAY
        local = datetime.combine(
            datetime(int(year or local_now.year), int(month), int(day)).date(), at, tzinfo=tz
        )
        if year is None and local < local_now:
            local = local.replace(year=local.year + 1)
    except ValueError:
        raise InvalidInput("deadline_format") from None
    return local.astimezone(now.tzinfo)
