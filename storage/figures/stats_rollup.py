"""The figures' rollup: tallies per local month, kept in step with the cases they count.

Every flush that adds, changes or deletes a case adds its change to the tallies in the same
transaction (an ORM `before_flush` hook: the old contribution, read from the database, out;
the new one in), so the rollup is exactly the live data whatever code changes a case, as long
as it goes through the ORM (raw SQL writes to `cases` bypass it: rebuild after those, as
bench/stats_data.py does). Months are local months of one time zone, recorded in
stats_rollup_state; the first figures asked in a zone build the tallies from the cases (and
rebuild them if the zone changes). On PostgreSQL a writer holds a share lock on that state row
from its first case change to its commit, and a build takes it exclusively, so no change falls
between a build's reading and its switching on.

Durations are tallied by whole minutes (seconds dropped from both times), which is how
storage/figures/stats_durations.py defines them live too: a median from the tallies is exact.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, cast, delete, event, func, insert, inspect, literal
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.figures.stats_models import CaseTally, DurationTally, RollupState
from storage.models import Case, utcnow
from storage.periods import Period, month

logger = logging.getLogger(__name__)

INSPECTION = "inspection"
ZONE = "stats_rollup_zone"  # session.info: the rollup's zone for this transaction
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
KINDS = {"first": col(Case.first_response_at), "resolved": col(Case.resolved_at)}
TRACKED = (
    "created_at", "category_id", "building", "source", "status", "satisfaction",
    "first_response_at", "resolved_at",
)  # fmt: skip


def whole_minutes(later: datetime, earlier: datetime) -> int:
    """Minutes between two times with their seconds' fractions dropped, toward zero."""
    seconds = (later - EPOCH) // SECOND - (earlier - EPOCH) // SECOND
    return seconds // 60 if seconds >= 0 else -(-seconds // 60)


def minutes_sql(later: Any, earlier: Any, dialect: str) -> Any:
    """whole_minutes() in SQL, the same on both databases (integers throughout)."""
    if dialect == "postgresql":

        def pg_seconds(t: Any) -> Any:
            return func.date_part("epoch", func.date_trunc("second", t))

        return cast(func.trunc((pg_seconds(later) - pg_seconds(earlier)) / 60), Integer)

    def seconds(t: Any) -> Any:  # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
        return cast(func.strftime("%s", func.substr(t, 1, 19)), Integer)

    return (seconds(later) - seconds(earlier)) // 60  # integer division: toward zero


# --- keeping the tallies in step --------------------------------------------------------


def _zone(session: Session) -> ZoneInfo | None:
    if ZONE not in session.info:
        query = sa_select(col(RollupState.tz)).where(col(RollupState.id) == 1)
        tz = session.connection().execute(query.with_for_update(read=True)).scalar()
        session.info[ZONE] = ZoneInfo(tz) if tz else None
    zone: ZoneInfo | None = session.info[ZONE]
    return zone


class _Changes:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.tallies: Counter[tuple[Any, ...]] = Counter()
        self.durations: Counter[tuple[str, str, int]] = Counter()

    def add(self, values: Sequence[Any], sign: int) -> None:
        created, category_id, building, source, status, stars, first, resolved = values
        label = created.astimezone(self.tz).strftime("%Y-%m")
        key = (label, category_id, building or "", source == INSPECTION, str(status))
        self.tallies[(*key, "cases")] += sign
        if stars is not None:
            self.tallies[(*key, "rated")] += sign
            self.tallies[(*key, "stars")] += sign * stars
        for kind, moment in (("first", first), ("resolved", resolved)):
            if moment is not None:
                self.durations[label, kind, whole_minutes(moment, created)] += sign

    def apply(self, session: Session) -> None:
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for (*key, field), amount in self.tallies.items():
            names = ("month", "category_id", "building", "inspection", "status")
            row = rows.setdefault(tuple(key), dict(zip(names, key, strict=True)))
            row.setdefault("cases", 0)
            row.setdefault("rated", 0)
            row.setdefault("stars", 0)
            row[field] += amount
        tallies = [rows[k] for k in sorted(rows, key=str) if any(rows[k][f] for f in _SUMS)]
        durations = [
            {"month": m, "kind": k, "minutes": n, "cases": amount}
            for (m, k, n), amount in sorted(self.durations.items())
            if amount
        ]
        connection = session.connection()
        dialect = connection.dialect.name
        if tallies:
            connection.execute(_upsert_for(dialect, CaseTally, _SUMS), tallies)
        if durations:
            connection.execute(_upsert_for(dialect, DurationTally, ("cases",)), durations)


_SUMS = ("cases", "rated", "stars")


@functools.cache
def _upsert_for(dialect: str, model: Any, sums: tuple[str, ...]) -> Any:
    table = model.__table__
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    added = {name: table.c[name] + statement.excluded[name] for name in sums}
    return statement.on_conflict_do_update(index_elements=keys, set_=added)


def _columns() -> list[Any]:
    return [Case.__table__.c[name] for name in TRACKED]  # type: ignore[attr-defined]


def _touched(case_: Case) -> bool:
    attrs = inspect(case_).attrs
    return any(attrs[name].history.has_changes() for name in TRACKED)


@event.listens_for(Session, "before_flush")
def _track(session: Session, flush_context: Any, instances: Any) -> None:
    added = [o for o in session.new if isinstance(o, Case)]
    # Only changes to what the figures read (not reminders, assignees, updated_at...).
    changed = [o for o in session.dirty if isinstance(o, Case) and _touched(o)]
    gone = [o for o in session.deleted if isinstance(o, Case)]
    if not (added or changed or gone):
        return
    tz = _zone(session)
    if tz is None:  # not built yet: the first figures build it from the cases as they are
        return
    changes = _Changes(tz)
    numbers = [o.id for o in changed + gone if o.id is not None]
    if numbers:
        table = Case.__table__  # type: ignore[attr-defined]
        old = sa_select(*_columns()).where(table.c.id.in_(numbers))
        for row in session.connection().execute(old):
            changes.add(tuple(row), -1)
    for case_ in added + changed:
        changes.add(tuple(getattr(case_, name) for name in TRACKED), +1)
    changes.apply(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(ZONE, None)


# --- building -----------------------------------------------------------------------------


async def ensure_rollup(session: AsyncSession, tz: ZoneInfo) -> None:
    """Make the tallies count in `tz`'s months, building them from the cases if they do not."""
    if (known := session.info.get(ZONE)) is not None and known.key == tz.key:
        return
    state = sa_select(col(RollupState.tz)).where(col(RollupState.id) == 1)
    if (await session.exec(state)).scalar() == tz.key:  # type: ignore[call-overload]
        session.info[ZONE] = tz
        return
    # Not built (or for another zone): take the state row exclusively, so that every writer
    # that changed cases without tallying has committed, and later ones wait for the build.
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    await session.exec(module.insert(RollupState).values(id=1).on_conflict_do_nothing())
    built = (await session.exec(state.with_for_update())).scalar()  # type: ignore[call-overload]
    if built != tz.key:
        started = utcnow()
        await _rebuild(session, tz, dialect)
        table: Any = RollupState.__table__  # type: ignore[attr-defined]
        done = {"tz": tz.key, "built_at": utcnow()}
        await session.exec(table.update().where(table.c.id == 1).values(**done))
        logger.info("figures rollup built in %s for %s", utcnow() - started, tz.key)
    session.info[ZONE] = tz


async def _rebuild(session: AsyncSession, tz: ZoneInfo, dialect: str) -> None:
    await session.exec(delete(CaseTally))
    await session.exec(delete(DurationTally))
    bounds = sa_select(func.min(col(Case.created_at)), func.max(col(Case.created_at)))
    first, last = (await session.exec(bounds)).one()  # type: ignore[call-overload]
    if first is None:
        return
    for period in _months(first, last, tz):
        await _tally_month(session, period, dialect)


def _months(first: datetime, last: datetime, tz: ZoneInfo) -> list[Period]:
    start, end = first.astimezone(tz), last.astimezone(tz)
    span = range(start.year * 12 + start.month - 1, end.year * 12 + end.month)
    return [month(n // 12, n % 12 + 1, tz) for n in span]


async def _tally_month(session: AsyncSession, period: Period, dialect: str) -> None:
    filed = and_(col(Case.created_at) >= period.start, col(Case.created_at) < period.end)
    label = literal(period.label)
    building = func.coalesce(col(Case.building), "")
    inspection = col(Case.source) == INSPECTION
    keys = (col(Case.category_id), building, inspection, col(Case.status))
    counts = (
        sa_select(
            label,
            *keys,
            func.count(),
            func.count(col(Case.satisfaction)),
            func.coalesce(func.sum(col(Case.satisfaction)), 0),
        )
        .where(filed)
        .group_by(*keys)
    )
    names = ["month", "category_id", "building", "inspection", "status", *_SUMS]
    await session.exec(insert(CaseTally).from_select(names, counts))
    for kind, moment in KINDS.items():
        minutes = minutes_sql(moment, col(Case.created_at), dialect)
        hist = (
            sa_select(label, literal(kind), minutes, func.count())
            .where(filed, moment.is_not(None))
            .group_by(minutes)
        )
        names = ["month", "kind", "minutes", "cases"]
        await session.exec(insert(DurationTally).from_select(names, hist))
