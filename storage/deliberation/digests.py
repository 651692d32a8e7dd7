"""Case-status digests: what happened to the cases of some buildings over a period.

The counts, by category, for cases of the given buildings (Case.building; None or an empty
list means every building):
- new: cases filed in [start, end), except those marked duplicate (counted under the original);
- handled: cases resolved in [start, end) and still resolved or closed (a reopened case has
  its resolution cleared, so it is not counted);
- overdue: open cases past their due time at `now`; the digest goes out just after its period,
  so this is "as it stands", whenever the case was filed.
Notable resolutions are a few cases handled in the period: the most supported, the longest
open, and hazards an inspection found and that were rectified. Each carries its category, its
number, never the reporter. Words are quoted (a short excerpt, phone numbers masked) only where
they were public already: a case filed in a group chat, or a hazard an inspector wrote up; a
private report's words stay private, since an address or a neighbour's name in them would
reach the whole group. An anonymous case appears by category alone (no number, no words),
since its number might identify the person who chose not to be named.

Every query is a range condition on an indexed time (created_at, resolved_at, due_at), so a
digest over a million cases reads only its period's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases.states import HANDLED, OPEN_STATUSES, Status
from storage.deliberation.meeting_models import Support
from storage.models import Case, Category
from storage.text import mask_phones

INSPECTION = "inspection"
# Cases whose words were public before the digest: filed in a group, or an inspector's hazard.
PUBLIC_WORDS = ("group", INSPECTION)
EXCERPT = 40
MOST_SUPPORTED = 3
LONGEST_OPEN = 2
LONG_OPEN_DAYS = 7  # open shorter than this is not notable for how long it took
HAZARDS = 2
NOTABLE = 5


@dataclass(frozen=True)
class CategoryLine:
    code: str
    name_zh: str
    name_en: str
    new: int
    handled: int
    overdue: int


@dataclass(frozen=True)
class Notable:
    """A resolution worth telling the group about. `case_id` and `excerpt` are None for an
    anonymous case."""

    reason: str  # "supported", "long_open" or "hazard"
    code: str
    name_zh: str
    name_en: str
    case_id: int | None
    excerpt: str | None
    supporters: int
    days_open: int


@dataclass(frozen=True)
class Digest:
    start: datetime
    end: datetime
    buildings: list[str] | None
    categories: list[CategoryLine]  # only categories with something to say, by position
    notable: list[Notable]
    hazards_rectified: int

    @property
    def new(self) -> int:
        return sum(line.new for line in self.categories)

    @property
    def handled(self) -> int:
        return sum(line.handled for line in self.categories)

    @property
    def overdue(self) -> int:
        return sum(line.overdue for line in self.categories)


def digest_params(digest: Digest) -> dict[str, Any]:
    """The digest as JSON-safe numbers and short strings, for an outbox row."""
    found = asdict(digest)
    found["start"], found["end"] = digest.start.isoformat(), digest.end.isoformat()
    return found


async def compile_digest(
    session: AsyncSession,
    *,
    buildings: list[str] | None,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Digest:
    """The digest of [start, end) for cases of `buildings` (None or [] = every building)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    # SQLite has no statistics: left to itself it would narrow by the index on status or
    # building rather than by the time range, so there those columns are hidden from it.
    # PostgreSQL knows better, and an expression would cost it its index-only scans.
    plain = _unindexed if sqlite else col
    # Likewise grouping: SQLite would walk the whole category index to save a sort (2.5 s for
    # the overdue count at a million cases); `category_id + 0` leaves it the range (0.03 s).
    category = col(Case.category_id) + 0 if sqlite else col(Case.category_id)
    filed = [col(Case.created_at) >= start, col(Case.created_at) < end]
    filed.append(col(Case.status) != Status.DUPLICATE)
    overdue = [col(Case.status).in_(OPEN_STATUSES), col(Case.due_at) < now]
    handled = [
        col(Case.resolved_at) >= start,
        col(Case.resolved_at) < end,
        plain(Case.status).in_(HANDLED),
    ]
    if buildings:
        filed.append(plain(Case.building).in_(buildings))
        overdue.append(plain(Case.building).in_(buildings))
        handled.append(plain(Case.building).in_(buildings))
    counts: dict[int, list[int]] = {}
    hazards_rectified = 0
    for slot, conditions in enumerate((filed, handled, overdue)):
        # Only what the indexes hold (category, status, building, times), so no row is read;
        # the hazards rectified are counted with the handled cases.
        inspected = func.sum(case((col(Case.source) == INSPECTION, 1), else_=0))
        counted = [func.count(), inspected] if slot == 1 else [func.count(), literal(0)]
        query = sa_select(category, *counted).where(*conditions)
        grouped = query.group_by(category)
        for category_id, n, hazards in (await session.exec(grouped)).all():  # type: ignore[call-overload]
            counts.setdefault(category_id, [0, 0, 0])[slot] = int(n)
            hazards_rectified += int(hazards or 0)
    categories = {c.id: c for c in (await session.exec(select(Category))).all()}
    lines = [
        CategoryLine(categories[cid].code, categories[cid].name_zh, categories[cid].name_en, *n)
        for cid, n in sorted(counts.items(), key=lambda item: _order(categories[item[0]]))
    ]
    notable = await _notable(session, handled, categories, plain)
    found = list(buildings) if buildings else None
    return Digest(start, end, found, lines, notable, hazards_rectified)


def _unindexed(column: Any) -> Any:
    """The column as an expression no index serves (`status || ''`)."""
    return col(column) + ""


def _order(category: Category) -> tuple[int, str]:
    return category.position, category.code


def _days_open(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", col(Case.resolved_at) - col(Case.created_at)) / 86400.0
    return func.julianday(col(Case.resolved_at)) - func.julianday(col(Case.created_at))


async def _notable(
    session: AsyncSession,
    scope: list[Any],
    categories: dict[int | None, Category],
    plain: Callable[[Any], Any],
) -> list[Notable]:
    """The notable resolutions among the handled cases in `scope`."""
    # From the period's handled cases to their supports (an IN list probing the supports'
    # unique index), not from every support ever given to a case.
    handled = sa_select(col(Case.id)).where(*scope)
    supporters = func.count().label("supporters")
    most_supported = (
        sa_select(col(Support.subject_id), supporters)
        .where(col(Support.subject) == "case", col(Support.subject_id).in_(handled))
        .group_by(col(Support.subject_id))
        .order_by(supporters.desc(), col(Support.subject_id))
        .limit(MOST_SUPPORTED)
    )
    days = _days_open(session)
    longest = (
        sa_select(col(Case.id))
        .where(*scope, days >= LONG_OPEN_DAYS)
        .order_by(days.desc(), col(Case.id))
        .limit(LONGEST_OPEN)
    )
    hazard = [*scope, plain(Case.source) == INSPECTION]
    hazards = sa_select(col(Case.id)).where(*hazard).order_by(col(Case.resolved_at).desc())
    picked: dict[int, str] = {}
    for reason, query in (
        ("supported", most_supported),
        ("long_open", longest),
        ("hazard", hazards.limit(HAZARDS)),
    ):
        for row in (await session.exec(query)).all():  # type: ignore[call-overload]
            picked.setdefault(int(row[0]), reason)
    ids = list(picked)[:NOTABLE]
    return await _describe(session, ids, picked, categories)


async def _describe(
    session: AsyncSession,
    ids: list[int],
    reasons: dict[int, str],
    categories: dict[int | None, Category],
) -> list[Notable]:
    if not ids:
        return []
    days = _days_open(session)
    details = sa_select(
        col(Case.id),
        col(Case.category_id),
        col(Case.text),
        col(Case.anonymous),
        col(Case.source),
        days,
    ).where(col(Case.id).in_(ids))
    counts = (
        sa_select(col(Support.subject_id), func.count())
        .where(col(Support.subject) == "case", col(Support.subject_id).in_(ids))
        .group_by(col(Support.subject_id))
    )
    support = dict((await session.exec(counts)).all())  # type: ignore[call-overload]
    found = {row[0]: row for row in (await session.exec(details)).all()}  # type: ignore[call-overload]
    notable = []
    for case_id in ids:
        _, category_id, text, anonymous, source, open_days = found[case_id]
        category = categories[category_id]
        notable.append(
            Notable(
                reason=reasons[case_id],
                code=category.code,
                name_zh=category.name_zh,
                name_en=category.name_en,
                case_id=None if anonymous else case_id,
                excerpt=excerpt(text) if source in PUBLIC_WORDS and not anonymous else None,
                supporters=int(support.get(case_id, 0)),
                days_open=int(float(open_days or 0)),
            )
        )
    return notable


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a case's text on one line, phone numbers masked."""
    line = " ".join(mask_phones(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
