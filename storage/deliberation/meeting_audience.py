"""Who hears about a meeting: the registered community groups, and the residents behind an
agenda item (ids only: who raised or supported an issue is never shown to anyone)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.deliberation.meeting_models import AgendaItem, Proposal, Support
from storage.models import Case, Group


async def item_people(session: AsyncSession, *, item: AgendaItem) -> list[int]:
    """Residents behind an item: its cases' reporters and supporters, its proposal's proposer
    and supporters (ids only: who they are is never shown to anyone)."""
    found: set[int] = set()
    if item.case_ids:
        ids = [int(c) for c in item.case_ids]
        reporters = select(col(Case.reporter_id)).where(col(Case.id).in_(ids))
        found |= set((await session.exec(reporters)).all())
        backing = select(col(Support.resident_id)).where(
            Support.subject == "case", col(Support.subject_id).in_(ids)
        )
        found |= set((await session.exec(backing)).all())
    if item.proposal_id is not None:
        proposal = await session.get(Proposal, item.proposal_id)
        if proposal is not None:
            found.add(proposal.proposer_id)
        backing = select(col(Support.resident_id)).where(
            Support.subject == "proposal", Support.subject_id == item.proposal_id
        )
        found |= set((await session.exec(backing)).all())
    return sorted(found)


async def registered_groups(session: AsyncSession) -> list[Group]:
    query = select(Group).where(col(Group.registered_at).is_not(None)).order_by(col(Group.id))
    return list((await session.exec(query)).all())
