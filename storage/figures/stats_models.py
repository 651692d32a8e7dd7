"""The figures' own tables (storage/figures/stats.py, storage/figures/stats_rollup.py).

The rollup keeps, per local month of filing, how many cases are in each category, building,
source (inspection or not) and status, with their ratings, and how many reached a first
response or a resolution after each whole number of minutes. It is kept in step with the cases
in the same transaction as every change (storage/figures/stats_rollup.py), so a year of a busy
district is a sum over a few thousand rows instead of a pass over a million cases.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.columns import UTCDateTime

# Overdue now needs an index starting (status, due_at): ix_cases_digest_overdue in
# storage/models.py serves it (1M cases: 0.28 s -> 0.03 s).


class RollupState(SQLModel, table=True):
    """One row: the time zone whose calendar months the rollup counts in (None: not built)."""

    __tablename__ = "stats_rollup_state"

    id: int = Field(default=1, primary_key=True)
    tz: str | None = Field(default=None, max_length=64)
    built_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaseTally(SQLModel, table=True):
    """Cases filed in a local month, by category, building ('' for none), source, status."""

    __tablename__ = "stats_case_tallies"

    month: str = Field(primary_key=True, max_length=7)
    category_id: int = Field(primary_key=True)
    building: str = Field(primary_key=True, max_length=16)
    inspection: bool = Field(primary_key=True)
    status: str = Field(primary_key=True, max_length=16)
    cases: int = 0
    rated: int = 0  # of those, with a satisfaction rating
    stars: int = 0  # the sum of those ratings


class DurationTally(SQLModel, table=True):
    """Cases filed in a local month that reached `kind` ("first" response, "resolved") after
    exactly `minutes` whole minutes."""

    __tablename__ = "stats_duration_tallies"

    month: str = Field(primary_key=True, max_length=7)
    kind: str = Field(primary_key=True, max_length=8)
    minutes: int = Field(primary_key=True)
    cases: int = 0
