"""What every table module shares: stored times, and ids that never come back.

The table modules (models, meeting_models, stats_models, apikey_models, whistle_models) import
this and nothing of each other, so none of them imports another that imports it back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the schema, on SQLite and PostgreSQL alike


def possible_id(number: int) -> bool:
    """Whether any row could have this id. A lookup of another reads as "not found" without
    asking the database (asyncpg refuses a number out of int32 range outright)."""
    return 0 < number <= MAX_ID


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware UTC datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite reuses the largest rowid after a delete; a case number or a draft id named by an old
# button must never come back as someone else's, so those tables use AUTOINCREMENT.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def _when(**kwargs: Any) -> Any:
    """A column stamped with the time its row is made (UTC)."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)
