"""Proposals for the monthly meeting, and "me too" on proposals and cases.

A proposal is filed at once when nothing open is alike. Otherwise it waits as a "draft" row
(one per resident: a restart loses nothing) while the proposer sees the similar open proposals
and cases; they either support one of those instead (the draft goes) or file theirs anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import OPEN_STATUSES, get_case
from storage.columns import possible_id
from storage.deliberation.meeting_models import Proposal, Support
from storage.errors import CaseNotFound, NotAllowed, StaleAction, StorageError
from storage.models import Case, Resident
from storage.similarity import most_alike
from storage.text import clean_description, mask_phones

logger = logging.getLogger(__name__)

DRAFT, OPEN, WITHDRAWN = "draft", "open", "withdrawn"
# How far back "similar" looks, and how many rows of each kind it compares at most.
SIMILAR_WINDOW = timedelta(days=180)
SIMILAR_CANDIDATES = 500


class ProposalNotFound(StorageError):
    """No such open proposal (withdrawn, decided, or never there)."""


class Backing(StrEnum):
    ADDED = "added"
    ALREADY = "already"
    OWN = "own"  # one's own proposal or case: raising it already counts


@dataclass(frozen=True)
class Alike:
    """An open proposal or case like a new text: what the proposer may support instead."""

    subject: str  # "proposal" or "case"
    subject_id: int
    text: str  # phone numbers masked; never the reporter's or proposer's name
    supporters: int
    likeness: float


@dataclass(frozen=True)
class Started:
    proposal: Proposal  # status "open" (filed) or "draft" (waiting: see `similar`)
    similar: list[Alike]


async def similar(
    session: AsyncSession,
    *,
    text: str,
    category_id: int | None,
    now: datetime,
    exclude_case_id: int | None = None,
    limit: int = 5,
) -> list[Alike]:
    """Open proposals and open cases like `text`, best first (narrowed in SQL: same category
    when known, filed in the last half year, the most recent few hundred of each)."""
    since = now - SIMILAR_WINDOW
    proposals = select(col(Proposal.id), col(Proposal.text)).where(
        col(Proposal.status) == OPEN, col(Proposal.created_at) >= since
    )
    cases = select(col(Case.id), col(Case.text)).where(
        col(Case.status).in_([s.value for s in OPEN_STATUSES]), col(Case.created_at) >= since
    )
    if category_id is not None:
        proposals = proposals.where(
            (col(Proposal.category_id) == category_id) | col(Proposal.category_id).is_(None)
        )
        cases = cases.where(col(Case.category_id) == category_id)
    if exclude_case_id is not None:
        cases = cases.where(col(Case.id) != exclude_case_id)
    proposals = proposals.order_by(col(Proposal.id).desc()).limit(SIMILAR_CANDIDATES)
    cases = cases.order_by(col(Case.id).desc()).limit(SIMILAR_CANDIDATES)
    found: list[tuple[str, int, str, float]] = []
    for subject, query in (("proposal", proposals), ("case", cases)):
        rows: dict[int, str] = dict((await session.exec(query)).all())  # type: ignore[arg-type]
        for key, likeness in most_alike(text, rows.items(), limit=limit):
            found.append((subject, key, rows[key], likeness))
    found.sort(key=lambda item: -item[3])
    return [
        Alike(subject, key, mask_phones(body), await supporters(session, subject, key), likeness)
        for subject, key, body, likeness in found[:limit]
    ]


async def supporters(session: AsyncSession, subject: str, subject_id: int) -> int:
    query = select(func.count()).where(
        col(Support.subject) == subject, col(Support.subject_id) == subject_id
    )
    return int((await session.exec(query)).one())


async def start_proposal(
    session: AsyncSession,
    *,
    proposer: Resident,
    text: str | None,
    now: datetime,
    category_id: int | None = None,
    case_id: int | None = None,
) -> Started:
    """File a proposal, or hold it as a draft while the proposer looks at what is alike.

    From a case: only the proposer's own (anyone else's reads as not found); the case's text
    and category stand in for what was not given.
    """
    assert proposer.id is not None
    if case_id is not None:
        case = await get_case(session, number=case_id)
        if case.reporter_id != proposer.id:
            raise CaseNotFound(case_id)
        text = text or mask_phones(case.text)
        category_id = category_id or case.category_id
    words = clean_description(text)
    await session.exec(
        delete(Proposal).where(
            col(Proposal.proposer_id) == proposer.id, col(Proposal.status) == DRAFT
        )
    )
    alike = await similar(
        session, text=words, category_id=category_id, now=now, exclude_case_id=case_id
    )
    proposal = Proposal(
        proposer_id=proposer.id,
        text=words,
        category_id=category_id,
        case_id=case_id,
        building=proposer.building,
        status=DRAFT if alike else OPEN,
        created_at=now,
    )
    session.add(proposal)
    await session.flush()
    logger.info("proposal %s %s by resident %s", proposal.id, proposal.status, proposer.id)
    return Started(proposal, alike)


async def proposable_cases(
    session: AsyncSession, *, resident: Resident, limit: int = 5
) -> list[Case]:
    """The resident's own open cases, newest first: each may become a proposal."""
    query = (
        select(Case)
        .where(
            col(Case.reporter_id) == resident.id,
            col(Case.status).in_([s.value for s in OPEN_STATUSES]),
        )
        .order_by(col(Case.id).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def _draft(session: AsyncSession, *, proposer: Resident, draft_id: int) -> Proposal:
    proposal = await session.get(Proposal, draft_id)
    if proposal is None or proposal.proposer_id != proposer.id or proposal.status != DRAFT:
        raise StaleAction(draft_id)
    return proposal


async def file_draft(
    session: AsyncSession, *, proposer: Resident, draft_id: int, now: datetime
) -> Proposal:
    """ "File mine anyway": the held draft becomes an open proposal."""
    proposal = await _draft(session, proposer=proposer, draft_id=draft_id)
    proposal.status, proposal.created_at = OPEN, now
    session.add(proposal)
    await session.flush()
    return proposal


async def drop_draft(session: AsyncSession, *, proposer: Resident) -> None:
    """The proposer supported something alike instead: their held draft goes."""
    await session.exec(
        delete(Proposal).where(
            col(Proposal.proposer_id) == proposer.id, col(Proposal.status) == DRAFT
        )
    )


async def open_proposal(session: AsyncSession, proposal_id: int) -> Proposal:
    proposal = await session.get(Proposal, proposal_id) if possible_id(proposal_id) else None
    if proposal is None or proposal.status != OPEN:
        raise ProposalNotFound(proposal_id)
    return proposal


async def support(
    session: AsyncSession, *, resident: Resident, subject: str, subject_id: int, now: datetime
) -> Backing:
    """ "Me too" on an open proposal or an open case: once per resident, never one's own."""
    assert resident.id is not None
    if subject == "proposal":
        owner = (await open_proposal(session, subject_id)).proposer_id
    elif subject == "case":
        case = await get_case(session, number=subject_id)
        if case.status not in OPEN_STATUSES:
            raise CaseNotFound(subject_id)
        owner = case.reporter_id
    else:
        raise StaleAction(subject)
    if owner == resident.id:
        return Backing.OWN
    row = Support(subject=subject, subject_id=subject_id, resident_id=resident.id, at=now)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:  # already there (or a double tap racing this one)
        return Backing.ALREADY
    return Backing.ADDED


async def withdraw(
    session: AsyncSession, *, resident: Resident, proposal_id: int, now: datetime
) -> Proposal:
    """The proposer takes their open proposal back; nobody else may."""
    proposal = await open_proposal(session, proposal_id)
    if proposal.proposer_id != resident.id:
        raise NotAllowed("only the proposer withdraws a proposal")
    proposal.status, proposal.withdrawn_at = WITHDRAWN, now
    session.add(proposal)
    await session.flush()
    return proposal


async def open_proposals(session: AsyncSession, *, limit: int = 20) -> list[tuple[Proposal, int]]:
    """Open proposals with their support counts, most supported first, then the newest."""
    n = func.count(col(Support.id))
    backing = (col(Support.subject) == "proposal") & (col(Support.subject_id) == col(Proposal.id))
    query = (
        select(Proposal, n)
        .outerjoin(Support, backing)
        .where(col(Proposal.status) == OPEN)
        .group_by(col(Proposal.id))
        .order_by(n.desc(), col(Proposal.created_at).desc(), col(Proposal.id).desc())
        .limit(limit)
    )
    return [(p, int(count)) for p, count in (await session.exec(query)).all()]


async def backers(session: AsyncSession, *, proposal: Proposal) -> list[int]:
    """The residents behind a proposal: its proposer, then its supporters (resident ids)."""
    query = select(col(Support.resident_id)).where(
        col(Support.subject) == "proposal", col(Support.subject_id) == proposal.id
    )
    found = [proposal.proposer_id]
    found += [r for r in (await session.exec(query)).all() if r not in found]
    return found
