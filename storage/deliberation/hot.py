"""Hot issues: which open case clusters and open proposals the next meeting should take up.

An issue is either a cluster of open cases (open: not resolved, closed, rejected or duplicate)
of one category whose texts say the same thing (storage/similarity.py), or an open proposal.
A proposal filed from a case takes that case's cluster in: the two are one issue, not two.

    score = W(category) x (R x (1 + F) + A + 2 x D + 3 x O)

    R  distinct residents who raised it (reporters, the proposer) or supported it ("me too")
    F  freshness, 2 ** -(days since the last case or support / 14): 1 today, 0.5 two weeks ago
    A  age unresolved, log2(1 + days since first raised / 7): slowly rising difficulty
    D  times it was on an agenda and left without a decision (Proposal.deferred; for a
       cluster, the agenda items of outcome "deferred" naming any of its cases)
    O  1 if any of its cases is past its due time, else 0
    W  the category weight below (unknown categories weigh 1.0)

Hotness (R, F) follows CONSUL's hot_score; difficulty (A, D, O) follows the deliberation
notes: what stays unresolved and keeps being put off climbs the agenda.

Speed (bench/agenda.py, 1,000,000 cases): SQL narrows to open rows first (ix_cases_status,
ix_proposals_status) and returns plain numbers (times as days since 1970, computed by the
database; no ORM objects, no datetime parsing); only the newest CLUSTERED open cases have their
texts read and compared, each only with the clusters that share one of its rarer features (an
inverted index); and only the issues that make the list are given their titles and exact times.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, literal, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import OPEN_STATUSES
from storage.deliberation.hot_clusters import Issue, Reader, group_cases
from storage.deliberation.meeting_models import AgendaItem, Proposal, Support
from storage.models import Case, Category

logger = logging.getLogger(__name__)

# The one table of category weights (by Category.code): what endangers people weighs most.
CATEGORY_WEIGHTS: dict[str, float] = {
    "safety": 1.5,  # hazards: fire passages, gas, falling objects
    "group_rental": 1.3,  # overcrowded rentals are a fire and order risk
    "property": 1.2,  # lifts, access control, lights: every day for many households
    "environment": 1.1,
    "construction": 1.0,
    "facilities": 1.0,
    "labour": 1.0,
    "other": 0.9,
}
FRESH_HALF_LIFE_DAYS = 14.0
AGE_UNIT_DAYS = 7.0
DEFERRED_POINTS = 2.0
OVERDUE_POINTS = 3.0
PROPOSAL_OPEN = "open"
# Comparing texts is the costly part: only the newest CLUSTERED open cases are clustered (an
# office that keeps up has far fewer open; older stragglers are scored one by one).
CLUSTERED = 4000


@dataclass(frozen=True)
class HotIssue:
    kind: str  # "cases" (an open case cluster) or "proposal"
    title: str  # representative text (never a name)
    score: float
    residents: int  # distinct residents who raised or supported it
    case_ids: list[int]  # the cluster's cases (or the proposal's linked case)
    proposal_id: int | None
    category_id: int | None
    first_raised_at: datetime
    deferred: int  # times it was on an agenda without a decision
    overdue: bool


def points(
    *, weight: float, residents: int, fresh_days: float, age_days: float, deferred: int,
    overdue: bool,
) -> float:  # fmt: skip
    """The formula of the module docstring, with the times as days ago."""
    freshness: float = 2.0 ** (-max(0.0, fresh_days) / FRESH_HALF_LIFE_DAYS)
    age = math.log2(1 + max(0.0, age_days) / AGE_UNIT_DAYS)
    total = residents * (1 + freshness) + age + DEFERRED_POINTS * deferred
    return weight * (total + (OVERDUE_POINTS if overdue else 0.0))


def score(
    *, weight: float, residents: int, last_activity: datetime, first_raised: datetime,
    deferred: int, overdue: bool, now: datetime,
) -> float:  # fmt: skip
    """The formula of the module docstring."""
    return points(
        weight=weight, residents=residents, deferred=deferred, overdue=overdue,
        fresh_days=(now - last_activity).total_seconds() / 86400,
        age_days=(now - first_raised).total_seconds() / 86400,
    )  # fmt: skip


async def _open_cases(
    read: Reader, now: datetime, *, limit: int, put_off: set[int]
) -> tuple[list[Any], dict[int, str]]:
    """Open cases as (id, category, reporter, filed, late), and the texts of the newest
    CLUSTERED of them (which are all returned). Of the older ones, scored alone, only those
    that can still make the list: the `limit` oldest of each category and lateness (alone,
    unsupported and never deferred, a case's score only grows with its age), and every one
    supported, deferred, or named by an open proposal."""
    is_open = col(Case.status).in_([s.value for s in OPEN_STATUSES])
    await read.rows(select(literal(1)))  # learn the dialect before building time expressions
    edge = select(col(Case.id)).where(is_open).order_by(col(Case.id).desc())
    found = await read.rows(edge.offset(CLUSTERED - 1).limit(1))
    first_clustered = found[0][0] if found else 0
    late = when((col(Case.due_at) < now, 1), else_=0)
    filed = read.days(col(Case.created_at))
    columns = (col(Case.id), col(Case.category_id), col(Case.reporter_id), filed, late)
    # Ids follow filing order: a range on the primary key reads only the recent stretch.
    recent = select(*columns, col(Case.text)).where(is_open, col(Case.id) >= first_clustered)
    rows = await read.rows(recent)
    texts = {row[0]: row[5] for row in rows}
    rank = func.row_number().over(
        partition_by=(col(Case.category_id), late), order_by=(col(Case.created_at), col(Case.id))
    )
    older = select(*columns, rank.label("rank")).where(is_open, col(Case.id) < first_clustered)
    ranked = older.subquery()
    backed = select(col(Support.subject_id)).where(col(Support.subject) == "case")
    proposed = select(col(Proposal.case_id)).where(
        col(Proposal.status) == PROPOSAL_OPEN, col(Proposal.case_id).is_not(None)
    )
    keep = [ranked.c.rank <= limit, ranked.c.id.in_(backed), ranked.c.id.in_(proposed)]
    if put_off:
        keep.append(ranked.c.id.in_(sorted(put_off)))
    old = select(*list(ranked.c)[:5]).where(or_(*keep))
    return [row[:5] for row in rows] + await read.rows(old), texts


async def _supports(read: Reader, subject: str, of: Any) -> list[Any]:
    """(subject id, resident, days) of the supports of the subjects `of` selects."""
    query = select(
        col(Support.subject_id), col(Support.resident_id), read.days(col(Support.at))
    ).where(col(Support.subject) == subject, col(Support.subject_id).in_(of))
    return await read.rows(query)


async def _deferrals(read: Reader) -> dict[int, set[int]]:
    """The deferred agenda items (ids) that named each case."""
    query = select(col(AgendaItem.id), col(AgendaItem.case_ids)).where(
        col(AgendaItem.outcome) == "deferred"
    )
    items: dict[int, set[int]] = defaultdict(set)
    for item_id, case_ids in await read.rows(query):
        for case_id in case_ids or []:
            items[int(case_id)].add(item_id)
    return items


async def _proposals(read: Reader, home_of: dict[int, Issue]) -> list[Issue]:
    """Open proposals with their backers; one filed from a case takes in that case's cluster."""
    is_open = col(Proposal.status) == PROPOSAL_OPEN
    query = select(
        col(Proposal.id), col(Proposal.text), col(Proposal.category_id), col(Proposal.case_id),
        col(Proposal.proposer_id), read.days(col(Proposal.created_at)), col(Proposal.deferred),
    ).where(is_open)  # fmt: skip
    found: dict[int, Issue] = {}
    for number, text, category_id, case_id, proposer_id, filed, deferred in await read.rows(query):
        issue = Issue(category_id, text, [], {proposer_id}, filed, filed, proposal_id=number)
        issue.deferred, issue.proposal_first = deferred, True
        cluster = home_of.get(case_id) if case_id is not None else None
        if case_id is not None:
            issue.case_ids = [case_id]
        if cluster is not None and not cluster.absorbed:
            cluster.absorbed = True
            issue.residents |= cluster.residents
            issue.case_ids, issue.overdue = list(cluster.case_ids), cluster.overdue
            issue.proposal_first = filed <= cluster.first
            issue.first, issue.last = min(filed, cluster.first), max(filed, cluster.last)
            issue.category_id = category_id or cluster.category_id
        found[number] = issue
    backing = select(col(Proposal.id)).where(is_open)
    for number, resident_id, at in await _supports(read, "proposal", backing):
        if (backed := found.get(number)) is not None:
            backed.residents.add(resident_id)
            backed.last = max(backed.last, at)
    return list(found.values())


async def hot_issues(session: AsyncSession, *, now: datetime, limit: int = 10) -> list[HotIssue]:
    """The `limit` hottest open issues, hottest first (ties: the older first)."""
    read = Reader(session)
    today = now.timestamp() / 86400
    deferrals = await _deferrals(read)
    open_cases, texts = await _open_cases(read, now, limit=limit, put_off=set(deferrals))
    clusters = group_cases(open_cases, texts)
    home_of = {case_id: c for c in clusters for case_id in c.case_ids}
    of_open = select(col(Case.id)).where(col(Case.status).in_([s.value for s in OPEN_STATUSES]))
    for case_id, resident_id, at in await _supports(read, "case", of_open):
        if (backed := home_of.get(case_id)) is not None:
            backed.residents.add(resident_id)
            backed.last = max(backed.last, at)
    put_off: dict[int, set[int]] = defaultdict(set)  # id(cluster) -> deferred agenda items
    for case_id, items in deferrals.items():
        if (named := home_of.get(case_id)) is not None:
            put_off[id(named)] |= items
    for cluster in clusters:
        cluster.deferred = len(put_off.get(id(cluster), ()))
    codes = dict(await read.rows(select(col(Category.id), col(Category.code))))
    weight = {cid: CATEGORY_WEIGHTS.get(code, 1.0) for cid, code in codes.items()}
    issues = await _proposals(read, home_of) + [c for c in clusters if not c.absorbed]
    for issue in issues:
        issue.score = points(
            weight=weight.get(issue.category_id, 1.0),
            residents=len(issue.residents),
            fresh_days=today - issue.last,
            age_days=today - issue.first,
            deferred=issue.deferred,
            overdue=issue.overdue,
        )
    top = heapq.nsmallest(
        limit, issues, key=lambda i: (-i.score, i.first, i.proposal_id or 0, i.case_ids)
    )
    return await _finished(read, top)


async def _finished(read: Reader, top: list[Issue]) -> list[HotIssue]:
    """The chosen few with their titles and exact first-raised times."""
    first_cases = [i.case_ids[0] for i in top if i.case_ids]
    cases = select(col(Case.id), col(Case.text), col(Case.created_at))
    by_case = {
        n: (t, at) for n, t, at in await read.rows(cases.where(col(Case.id).in_(first_cases)))
    }
    numbers = [i.proposal_id for i in top if i.proposal_id is not None]
    proposals = select(col(Proposal.id), col(Proposal.created_at))
    by_proposal = dict(await read.rows(proposals.where(col(Proposal.id).in_(numbers))))
    found = []
    for issue in top:
        text, filed = by_case.get(issue.case_ids[0], ("", None)) if issue.case_ids else ("", None)
        if issue.proposal_id is not None and (issue.proposal_first or filed is None):
            filed = by_proposal[issue.proposal_id]
        assert filed is not None
        found.append(
            HotIssue(
                "cases" if issue.proposal_id is None else "proposal",
                issue.title or text,
                round(issue.score, 6),
                len(issue.residents),
                list(issue.case_ids),
                issue.proposal_id,
                issue.category_id,
                filed,
                issue.deferred,
                issue.overdue,
            )  # fmt: skip
        )
    return found
