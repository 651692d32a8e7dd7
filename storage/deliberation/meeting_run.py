"""The meeting held in the chat: items posted one by one, votes, outcomes, the minutes.

A secretary starts the run; each item in turn goes to the registered groups with vote buttons (one
vote per resident and item, which they may change while the item is on the floor: the latest counts,
once). The secretary records a decision (storage/deliberation/decisions.py), defers the item, or
moves on; an item left without a decision when the meeting ends counts as deferred, which raises its
proposal's `deferred` (and so its heat next month).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.columns import possible_id
from storage.deliberation.meeting_audience import registered_groups
from storage.deliberation.meeting_models import AgendaItem, AgendaVote, Decision, Meeting, Proposal
from storage.deliberation.meetings import (
    APPROVED,
    DRAFT,
    HELD,
    IN_PROGRESS,
    MINUTED,
    PLANNED,
    agenda,
    agenda_params,
)
from storage.errors import StaleAction
from storage.models import Resident, Unit
from storage.people.roles import Authority, Role

logger = logging.getLogger(__name__)

CHOICES = {"f": "for", "a": "against", "n": "abstain"}
DEFERRED, DECIDED = "deferred", "decided"


class VotingClosed(StaleAction):
    """The item has left the floor (or has its outcome): its votes are final."""


@dataclass(frozen=True)
class Voted:
    counts: dict[str, int]  # the tally after this vote
    choice: str
    previous: str | None  # the earlier vote, if this press changed it

    @property
    def changed(self) -> bool:
        return self.previous is not None and self.previous != self.choice


async def start_run(
    session: AsyncSession, *, meeting: Meeting, auth: Authority, now: datetime
) -> AgendaItem | None:
    """Open the meeting and post its first item; starting an unapproved agenda approves it."""
    auth.require(Role.SECRETARY)
    if meeting.status not in (PLANNED, DRAFT, APPROVED):
        raise StaleAction(meeting.id)
    if meeting.status != APPROVED:
        meeting.approved_by_id, meeting.approved_at = auth.resident_id, now
    meeting.status, meeting.started_at = IN_PROGRESS, now
    items = await agenda(session, meeting=meeting)
    return await _put_on_floor(session, meeting, items[0] if items else None, len(items))


async def _put_on_floor(
    session: AsyncSession, meeting: Meeting, item: AgendaItem | None, total: int
) -> AgendaItem | None:
    meeting.current_item_id = item.id if item else None
    session.add(meeting)
    await session.flush()
    if item is None:
        return None
    items = await agenda(session, meeting=meeting)
    number = next(n for n, i in enumerate(items, start=1) if i.id == item.id)
    params = {**agenda_params([item])[0], "item": item.id, "n": number, "total": total}
    groups = await registered_groups(session)
    await outbox.enqueue_each(
        session, to=groups, kind="meeting_item", params=params, key=str(item.id)
    )
    return item


async def current_item(session: AsyncSession, *, meeting: Meeting) -> AgendaItem:
    if meeting.status != IN_PROGRESS or meeting.current_item_id is None:
        raise StaleAction(meeting.id)
    item = await session.get(AgendaItem, meeting.current_item_id)
    assert item is not None
    return item


async def cast_vote(
    session: AsyncSession, *, item_id: int, resident: Resident, choice: str, now: datetime
) -> Voted:
    """A vote on the item on the floor, or a change of it (the latest counts, once);
    VotingClosed once the item has left the floor."""
    item = await session.get(AgendaItem, item_id) if possible_id(item_id) else None
    meeting = await session.get(Meeting, item.meeting_id) if item else None
    if item is None or meeting is None or choice not in CHOICES:
        raise StaleAction(item_id)
    if meeting.status != IN_PROGRESS or meeting.current_item_id != item.id or item.outcome:
        raise VotingClosed(item_id)
    assert resident.id is not None
    chosen, existing = CHOICES[choice], await _vote_of(session, item_id, resident.id)
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(
                    AgendaVote(item_id=item_id, resident_id=resident.id, choice=chosen, at=now)
                )
                await session.flush()
            return Voted(await tally(session, item_id=item_id), chosen, None)
        except IntegrityError:  # a second press raced this one: change that vote instead
            existing = await _vote_of(session, item_id, resident.id)
            assert existing is not None
    previous = existing.choice
    if previous != chosen:
        existing.choice, existing.at = chosen, now
        session.add(existing)
        await session.flush()
    return Voted(await tally(session, item_id=item_id), chosen, previous)


async def _vote_of(session: AsyncSession, item_id: int, resident_id: int) -> AgendaVote | None:
    query = select(AgendaVote).where(
        AgendaVote.item_id == item_id, AgendaVote.resident_id == resident_id
    )
    return (await session.exec(query)).first()


async def tally(session: AsyncSession, *, item_id: int) -> dict[str, int]:
    query = (
        select(AgendaVote.choice, func.count())
        .where(AgendaVote.item_id == item_id)
        .group_by(col(AgendaVote.choice))
    )
    counts = dict.fromkeys(CHOICES.values(), 0)
    for choice, count in (await session.exec(query)).all():
        counts[choice] = int(count)
    return counts


async def settle_item(session: AsyncSession, *, item: AgendaItem, outcome: str) -> None:
    """Record an item's outcome; a deferred proposal counts one more deferral."""
    if item.outcome is not None:
        return
    item.outcome = outcome
    session.add(item)
    if item.proposal_id is not None and item.kind == "proposal":
        proposal = await session.get(Proposal, item.proposal_id)
        if proposal is not None and proposal.status == "open":
            if outcome == DEFERRED:
                proposal.deferred += 1
            else:
                proposal.status = DECIDED
            session.add(proposal)
    await session.flush()


async def advance(
    session: AsyncSession,
    *,
    meeting: Meeting,
    auth: Authority,
    item_id: int,
    defer: bool = False,
) -> AgendaItem | None:
    """Leave the item on the floor (deferring it if asked) and post the next one; None when
    the agenda is done. A press for an item no longer on the floor is stale."""
    auth.require(Role.SECRETARY)
    item = await current_item(session, meeting=meeting)
    if item.id != item_id:
        raise StaleAction(item_id)
    if defer:
        await settle_item(session, item=item, outcome=DEFERRED)
    items = await agenda(session, meeting=meeting)
    at = next(n for n, i in enumerate(items) if i.id == item.id)
    later = items[at + 1 :]
    return await _put_on_floor(session, meeting, later[0] if later else None, len(items))


async def end_meeting(
    session: AsyncSession, *, meeting: Meeting, now: datetime, auth: Authority | None = None
) -> int:
    """Close the meeting (a secretary, or the minutes step); every item left without an
    outcome is deferred. Returns how many were deferred."""
    if auth is not None:
        auth.require(Role.SECRETARY)
    if meeting.status in (HELD, MINUTED):
        return 0
    deferred = 0
    for item in await agenda(session, meeting=meeting):
        if item.outcome is None:
            await settle_item(session, item=item, outcome=DEFERRED)
            deferred += 1
    meeting.status, meeting.ended_at, meeting.current_item_id = HELD, now, None
    session.add(meeting)
    await session.flush()
    return deferred


async def decision_params(
    session: AsyncSession, decision: Decision, tz: ZoneInfo
) -> dict[str, Any]:
    """A decision as notice params: the owner by unit name or by person, never a reporter;
    the due date as a local day."""
    unit = await session.get(Unit, decision.owner_unit_id) if decision.owner_unit_id else None
    person = (
        await session.get(Resident, decision.owner_resident_id)
        if decision.owner_resident_id
        else None
    )
    return {
        "decision": decision.id,
        "text": decision.text,
        "owner": {"zh": unit.name_zh, "en": unit.name_en} if unit else None,
        "owner_person": person.name if person else None,
        "due": decision.due_at.astimezone(tz).date().isoformat() if decision.due_at else None,
        "status": decision.status,
    }


async def minutes_params(
    session: AsyncSession, *, meeting: Meeting, tz: ZoneInfo
) -> dict[str, Any]:
    """What the minutes say: each item with its votes and outcome, and the decisions taken."""
    items = []
    for n, item in enumerate(await agenda(session, meeting=meeting), start=1):
        items.append(
            {
                "n": n,
                "kind": item.kind,
                "title": item.title,
                "outcome": item.outcome or DEFERRED,
                "votes": await tally(session, item_id=item.id or 0),
            }
        )
    query = select(Decision).where(Decision.meeting_id == meeting.id).order_by(col(Decision.id))
    decisions = [await decision_params(session, d, tz) for d in (await session.exec(query)).all()]
    return {"period": meeting.period, "items": items, "decisions": decisions}
