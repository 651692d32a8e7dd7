"""The monthly meeting and its agenda: compiled from the hot issues, edited and approved.

The draft agenda puts "unfinished business" first (every decision of an earlier meeting that is
still open), then the hottest issues (storage/deliberation/hot.py), then the most supported
proposals not already on it. Only secretaries edit (add a topic, drop, reorder) or approve it, and
only until the meeting starts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.columns import possible_id
from storage.deliberation.hot import hot_issues
from storage.deliberation.meeting_calendar import MeetingPlan
from storage.deliberation.meeting_models import AgendaItem, Decision, Meeting
from storage.deliberation.proposals import open_proposals
from storage.errors import InvalidInput, StaleAction, StorageError
from storage.people.roles import Authority, Role
from storage.text import mask_phones

logger = logging.getLogger(__name__)

PLANNED, DRAFT, APPROVED = "planned", "agenda_draft", "agenda_approved"
IN_PROGRESS, HELD, MINUTED = "in_progress", "held", "minuted"
EDITABLE = (PLANNED, DRAFT, APPROVED)
HOT_ON_AGENDA = 6
PROPOSALS_ON_AGENDA = 3
TITLE_LIMIT = 160


class MeetingNotFound(StorageError):
    """No such meeting."""


async def meeting_for(session: AsyncSession, *, period: str, plan: MeetingPlan) -> Meeting:
    """The meeting of a month, created on first use (two instances racing create one)."""
    query = select(Meeting).where(Meeting.period == period)
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            meeting = Meeting(period=period, starts_at=plan.starts_at(period))
            session.add(meeting)
            await session.flush()
        return meeting
    except IntegrityError:
        return (await session.exec(query)).one()


async def current_meeting(session: AsyncSession, *, plan: MeetingPlan, now: datetime) -> Meeting:
    """The meeting in progress, else the one whose minutes are not yet due."""
    running = select(Meeting).where(Meeting.status == IN_PROGRESS).order_by(col(Meeting.id))
    found = (await session.exec(running)).first()
    return found or await meeting_for(session, period=plan.current_period(now), plan=plan)


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting:
    meeting = await session.get(Meeting, meeting_id) if possible_id(meeting_id) else None
    if meeting is None:
        raise MeetingNotFound(meeting_id)
    return meeting


async def get_item(session: AsyncSession, *, item_id: int) -> AgendaItem:
    """An agenda item; StaleAction if there is none (a press on a button of a dropped item)."""
    item = await session.get(AgendaItem, item_id) if possible_id(item_id) else None
    if item is None:
        raise StaleAction(item_id)
    return item


async def agenda(
    session: AsyncSession, *, meeting: Meeting, with_dropped: bool = False
) -> list[AgendaItem]:
    """The items in order (dropped ones only when asked)."""
    query = select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
    if not with_dropped:
        query = query.where(col(AgendaItem.dropped).is_(False))
    query = query.order_by(col(AgendaItem.position), col(AgendaItem.id))
    return list((await session.exec(query)).all())


def _title(text: str) -> str:
    text = " ".join(mask_phones(text).split())
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


async def unfinished_decisions(session: AsyncSession, *, before: datetime) -> list[Decision]:
    """Open decisions of meetings held before `before`, oldest first."""
    query = (
        select(Decision)
        .join(Meeting, col(Meeting.id) == Decision.meeting_id)
        .where(Decision.status == "open", col(Meeting.starts_at) < before)
        .order_by(col(Decision.id))
    )
    return list((await session.exec(query)).all())


async def carry_unfinished(session: AsyncSession, *, meeting: Meeting) -> int:
    """Put every open earlier decision on the agenda under unfinished business (first), unless
    it is there already (a dropped one stays dropped). Returns how many were added."""
    assert meeting.id is not None
    present = await agenda(session, meeting=meeting, with_dropped=True)
    on_it = {item.decision_id for item in present}
    added = []
    for decision in await unfinished_decisions(session, before=meeting.starts_at):
        if decision.id in on_it:
            continue
        origin = await session.get(AgendaItem, decision.item_id) if decision.item_id else None
        added.append(
            AgendaItem(
                meeting_id=meeting.id,
                kind="unfinished",
                title=_title(decision.text),
                decision_id=decision.id,
                proposal_id=origin.proposal_id if origin else None,
                case_ids=list(origin.case_ids) if origin else [],
            )
        )
    ordered = [*(i for i in present if i.kind == "unfinished"), *added]
    ordered += [i for i in present if i.kind != "unfinished"]
    for position, item in enumerate(ordered, start=1):
        item.position = position
        session.add(item)
    await session.flush()
    return len(added)


async def compile_agenda(session: AsyncSession, *, meeting: Meeting, now: datetime) -> bool:
    """Fill an empty agenda (False if it had items: then only unfinished business is added)."""
    assert meeting.id is not None
    if meeting.status not in EDITABLE:
        raise StaleAction(meeting.id)
    if await agenda(session, meeting=meeting, with_dropped=True):
        await carry_unfinished(session, meeting=meeting)
        return False
    await carry_unfinished(session, meeting=meeting)
    carried = await agenda(session, meeting=meeting)
    taken_cases = {c for item in carried for c in item.case_ids}
    taken_proposals: set[int | None] = {i.proposal_id for i in carried if i.proposal_id}
    position = len(carried)
    hot = 0
    for issue in await hot_issues(session, now=now, limit=HOT_ON_AGENDA * 2):
        if hot >= HOT_ON_AGENDA or issue.proposal_id in taken_proposals:
            continue
        if issue.proposal_id is None and taken_cases & set(issue.case_ids):
            continue
        position, hot = position + 1, hot + 1
        taken_proposals.add(issue.proposal_id)
        taken_cases |= set(issue.case_ids)
        session.add(
            AgendaItem(
                meeting_id=meeting.id,
                position=position,
                kind=issue.kind,
                title=_title(issue.title),
                proposal_id=issue.proposal_id,
                case_ids=list(issue.case_ids),
                score=round(issue.score, 3),
            )
        )
    extra = 0
    for proposal, _supporters in await open_proposals(session, limit=PROPOSALS_ON_AGENDA * 4):
        if extra >= PROPOSALS_ON_AGENDA or proposal.id in taken_proposals:
            continue
        position, extra = position + 1, extra + 1
        session.add(
            AgendaItem(
                meeting_id=meeting.id,
                position=position,
                kind="proposal",
                title=_title(proposal.text),
                proposal_id=proposal.id,
                case_ids=[proposal.case_id] if proposal.case_id else [],
            )
        )
    await session.flush()
    logger.info("agenda of %s compiled: %d items", meeting.period, position)
    return True


def _editable(meeting: Meeting, auth: Authority) -> None:
    auth.require(Role.SECRETARY)
    if meeting.status not in EDITABLE:
        raise StaleAction(meeting.id)


async def approve(
    session: AsyncSession, *, meeting: Meeting, auth: Authority, now: datetime
) -> bool:
    """One tap: the agenda as it stands is approved. False if it was approved before."""
    _editable(meeting, auth)
    if meeting.status == APPROVED:
        return False
    meeting.status, meeting.approved_by_id, meeting.approved_at = APPROVED, auth.resident_id, now
    session.add(meeting)
    await session.flush()
    return True


async def add_topic(
    session: AsyncSession, *, meeting: Meeting, auth: Authority, title: str
) -> AgendaItem:
    _editable(meeting, auth)
    title = title.strip()
    if not title:
        raise InvalidInput("empty")
    assert meeting.id is not None
    items = await agenda(session, meeting=meeting)
    item = AgendaItem(
        meeting_id=meeting.id,
        position=(items[-1].position if items else 0) + 1,
        kind="topic",
        title=_title(title),
    )
    session.add(item)
    await session.flush()
    return item


async def _at(session: AsyncSession, meeting: Meeting, number: int) -> list[AgendaItem]:
    items = await agenda(session, meeting=meeting)
    if not 1 <= number <= len(items):
        raise InvalidInput("no_item", count=len(items))
    return items


async def drop_item(
    session: AsyncSession, *, meeting: Meeting, auth: Authority, number: int
) -> AgendaItem:
    """Take the number-th item (as listed) off the agenda."""
    _editable(meeting, auth)
    item = (await _at(session, meeting, number))[number - 1]
    item.dropped = True
    session.add(item)
    await session.flush()
    return item


async def move_item(
    session: AsyncSession, *, meeting: Meeting, auth: Authority, number: int, to: int
) -> None:
    """Move the number-th item to place `to` (both as listed)."""
    _editable(meeting, auth)
    items = await _at(session, meeting, number)
    if not 1 <= to <= len(items):
        raise InvalidInput("no_item", count=len(items))
    items.insert(to - 1, items.pop(number - 1))
    for position, item in enumerate(items, start=1):
        item.position = position
        session.add(item)
    await session.flush()


def agenda_params(items: list[AgendaItem]) -> list[dict[str, object]]:
    """The agenda as notice params: numbered as listed, titles already masked."""
    return [
        {"n": n, "kind": item.kind, "title": item.title, "decision": item.decision_id}
        for n, item in enumerate(items, start=1)
    ]
