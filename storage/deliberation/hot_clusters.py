"""The parts of storage/deliberation/hot.py that make it fast: plain rows, and grouping open cases.

`Reader` runs queries on the session's connection and has the database turn times into days
since 1970 (no ORM objects, no datetime parsing for tens of thousands of rows). `group_cases`
groups open cases of one category whose texts are alike: greedily, oldest case first, as
storage.similarity.cluster does, but through an inverted index of the rarer features.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, cast, extract, func
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.similarity import SAME_ISSUE, features, similarity

# A feature found in more than RARE of the texts (and in over COMMON_FLOOR) is not looked up.
RARE = 0.05
COMMON_FLOOR = 50
UNIX_EPOCH_JULIAN_DAY = 2440587.5


@dataclass(slots=True)
class Issue:
    """A ranking candidate: a cluster of open cases (its oldest first) or a proposal."""

    category_id: int | None
    title: str | None  # None: a case scored alone, its text read only if it makes the list
    case_ids: list[int]
    residents: set[int]
    first: float  # days since 1970
    last: float
    overdue: bool = False
    proposal_id: int | None = None
    proposal_first: bool = False  # raised first as the proposal (else as its oldest case)
    deferred: int = 0
    score: float = 0.0
    absorbed: bool = field(default=False)

    def add(self, case_id: int, reporter_id: int, filed: float, late: bool) -> None:
        self.case_ids.append(case_id)
        self.residents.add(reporter_id)
        self.first, self.last = min(self.first, filed), max(self.last, filed)
        self.overdue = self.overdue or late


class Reader:
    """Plain rows through the session's connection, times as days since 1970 (a float)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.sqlite = True

    async def rows(self, query: Any) -> list[Any]:
        conn = await self.session.connection()
        self.sqlite = conn.dialect.name == "sqlite"
        return list((await conn.execute(query)).all())

    def days(self, column: Any) -> Any:
        if self.sqlite:
            return cast(func.julianday(column) - UNIX_EPOCH_JULIAN_DAY, Float)
        return cast(extract("epoch", column) / 86400.0, Float)


def group_cases(rows: list[Any], texts: dict[int, str]) -> list[Issue]:
    """Greedy clustering per category, oldest case first, of the cases whose text was read;
    the others stand alone. A text is compared with the clusters sharing one of its rarer
    features (in at most RARE of this batch's texts), through an inverted index: a feature
    nearly every report has ("号楼") says nothing on its own (a text with only such features
    looks them all up)."""
    marks_of: dict[str, frozenset[str]] = {}  # the same words twice (a forwarded report)
    for words in texts.values():
        if words not in marks_of:
            marks_of[words] = features(words)
    seen_in: Counter[str] = Counter(f for words in texts.values() for f in marks_of[words])
    common = max(COMMON_FLOOR, int(len(texts) * RARE))
    found: list[Issue] = []
    reps: dict[int, frozenset[str]] = {}
    index: dict[tuple[int, str], list[int]] = defaultdict(list)
    for case_id, category_id, reporter_id, filed, overdue in sorted(
        rows, key=lambda r: (r[3], r[0])
    ):
        late = bool(overdue)
        body = texts.get(case_id)
        if body is None:
            found.append(Issue(category_id, None, [case_id], {reporter_id}, filed, filed, late))
            continue
        mine = marks_of[body]
        ranked = sorted(mine, key=lambda f: seen_in[f])
        probes = [f for f in ranked if seen_in[f] <= common] or ranked
        candidates = sorted({p for f in probes for p in index.get((category_id, f), ())})
        home = next((found[p] for p in candidates if similarity(mine, reps[p]) >= SAME_ISSUE), None)
        if home is None:
            for mark in mine:
                index[(category_id, mark)].append(len(found))
            reps[len(found)] = mine
            home = Issue(category_id, body, [], set(), filed, filed)
            found.append(home)
        home.add(case_id, reporter_id, filed, late)
    return found
