"""Decisions of the meeting, tracked like cases: an owner, a due date, progress notes, done.

A secretary records a decision on an agenda item with its owner (a handling unit or a person)
and due date. The owner or a secretary adds progress notes and marks it done; then every
resident who raised or supported the underlying issue is told privately (an anonymous reporter
too, never named to anyone). The sweep (scheduler/meeting_cycle.py) reminds the owner at 80% of
the time and tells the secretaries once it is overdue; an open decision goes onto the next
meeting's agenda as unfinished business (storage/deliberation/meetings.py: carry_unfinished).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.cases.notify import secretaries
from storage.columns import possible_id
from storage.deliberation.meeting_audience import item_people, registered_groups
from storage.deliberation.meeting_models import AgendaItem, Decision, DecisionNote, Meeting
from storage.deliberation.meeting_run import DECIDED, decision_params, settle_item
from storage.deliberation.meetings import IN_PROGRESS, MINUTED
from storage.errors import InvalidInput, NotAllowed, StaleAction, StorageError
from storage.models import Identity, Resident, Unit
from storage.people import identities
from storage.people.roles import Authority, Role, holders

logger = logging.getLogger(__name__)

OPEN, DONE, REPLACED = "open", "done", "replaced"
REMIND_AT = 0.8
TEXT_LIMIT = 500
MAX_DAYS = 366


class DecisionNotFound(StorageError):
    """No such decision."""


class NotOwner(NotAllowed):
    """Only the decision's owner or a secretary may do this. Names the owner (a unit's names
    by language, or a person's name) so that the answer can say who may."""

    def __init__(
        self, decision_id: int | None, *, unit: dict[str, str] | None, person: str | None
    ) -> None:
        super().__init__(f"decision {decision_id}: only the owner or a secretary")
        self.unit, self.person = unit, person


@dataclass(frozen=True)
class Owner:
    unit_id: int | None = None
    resident_id: int | None = None


def due_from(text: str, *, today: date, tz: ZoneInfo) -> datetime:
    """ "2027-01-15" or a number of days ("30", "30d"): the end of that local day."""
    text = text.strip().lower().removesuffix("d").removesuffix("天")
    try:
        day = today + timedelta(days=int(text)) if text.isdigit() else date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("bad_due") from None
    if not today <= day <= today + timedelta(days=MAX_DAYS):
        raise InvalidInput("bad_due")
    return datetime.combine(day, time(23, 59), tz)


async def find_owner(session: AsyncSession, ref: str) -> Owner:
    """A unit code ("property"), or a person by @username or Telegram id."""
    ref = ref.strip()
    unit = (await session.exec(select(Unit).where(Unit.code == ref.lower()))).first()
    if unit is not None:
        return Owner(unit_id=unit.id)
    if ref.startswith("@") and len(ref) > 1:
        query = select(Resident).where(Resident.username == ref[1:])
    elif ref.isdigit():
        query = (
            select(Resident)
            .join(Identity, col(Identity.resident_id) == col(Resident.id))
            .where(Identity.channel == identities.TELEGRAM, Identity.external_id == ref)
        )
    else:
        raise InvalidInput("bad_owner")
    person = (await session.exec(query)).first()
    if person is None:
        raise InvalidInput("bad_owner")
    return Owner(resident_id=person.id)


async def get_decision(session: AsyncSession, decision_id: int) -> Decision:
    found = await session.get(Decision, decision_id) if possible_id(decision_id) else None
    if found is None:
        raise DecisionNotFound(decision_id)
    return found


async def record_decision(
    session: AsyncSession,
    *,
    item: AgendaItem,
    text: str,
    owner: Owner,
    due_at: datetime,
    auth: Authority,
    now: datetime,
    tz: ZoneInfo,
) -> Decision:
    """The meeting's decision on an item (one per item); an unfinished item's new decision
    replaces the old one."""
    auth.require(Role.SECRETARY)
    meeting = await session.get(Meeting, item.meeting_id)
    assert meeting is not None and meeting.id is not None
    if meeting.status == MINUTED or item.dropped or item.outcome is not None:
        raise StaleAction(item.id)
    text = " ".join(text.split())
    if not text or len(text) > TEXT_LIMIT:
        raise InvalidInput("bad_decision")
    if owner.unit_id is None and owner.resident_id is None:
        raise InvalidInput("bad_owner")
    decision = Decision(
        meeting_id=meeting.id,
        item_id=item.id,
        text=text,
        owner_unit_id=owner.unit_id,
        owner_resident_id=owner.resident_id,
        due_at=due_at,
        created_by_id=auth.resident_id,
        created_at=now,
    )
    session.add(decision)
    await settle_item(session, item=item, outcome=DECIDED)
    if item.kind == "unfinished" and item.decision_id is not None:
        earlier = await session.get(Decision, item.decision_id)
        if earlier is not None and earlier.status == OPEN:
            earlier.status = REPLACED
            session.add(earlier)
    await session.flush()
    if meeting.status == IN_PROGRESS:
        params = await decision_params(session, decision, tz)
        groups = await registered_groups(session)
        await outbox.enqueue_each(
            session, to=groups, kind="meeting_decided", params=params, key=str(decision.id)
        )
    logger.info("decision %s recorded on item %s", decision.id, item.id)
    return decision


async def _may_work_on(session: AsyncSession, decision: Decision, auth: Authority) -> None:
    if auth.is_secretary or decision.owner_resident_id == auth.resident_id:
        return
    if decision.owner_unit_id is not None and decision.owner_unit_id in auth.unit_ids:
        return
    unit = await session.get(Unit, decision.owner_unit_id) if decision.owner_unit_id else None
    person = (
        await session.get(Resident, decision.owner_resident_id)
        if decision.owner_resident_id
        else None
    )
    raise NotOwner(
        decision.id,
        unit={"zh": unit.name_zh, "en": unit.name_en} if unit else None,
        person=person.name if person else None,
    )


async def add_note(
    session: AsyncSession, *, decision: Decision, auth: Authority, note: str, now: datetime
) -> DecisionNote:
    await _may_work_on(session, decision, auth)
    note = " ".join(note.split())
    if not note or len(note) > TEXT_LIMIT:
        raise InvalidInput("bad_note")
    if decision.status != OPEN:
        raise StaleAction(decision.id)
    row = DecisionNote(decision_id=decision.id or 0, author_id=auth.resident_id, at=now, note=note)
    session.add(row)
    await session.flush()
    return row


async def notes(session: AsyncSession, *, decision: Decision) -> list[DecisionNote]:
    query = select(DecisionNote).where(DecisionNote.decision_id == decision.id)
    return list((await session.exec(query.order_by(col(DecisionNote.id)))).all())


async def mark_done(
    session: AsyncSession, *, decision: Decision, auth: Authority, now: datetime, tz: ZoneInfo
) -> int:
    """Done: everyone who raised or supported the issue is told. Returns how many."""
    await _may_work_on(session, decision, auth)
    if decision.status != OPEN:
        raise StaleAction(decision.id)
    decision.status, decision.done_at = DONE, now
    session.add(decision)
    await session.flush()
    item = await session.get(AgendaItem, decision.item_id) if decision.item_id else None
    people = await item_people(session, item=item) if item else []
    params = await decision_params(session, decision, tz)
    residents = [await session.get(Resident, resident_id) for resident_id in people]
    await outbox.enqueue_each(
        session,
        to=[r for r in residents if r is not None],
        kind="decision_done",
        params=params,
        key=str(decision.id),
    )
    return len(people)


async def open_decisions(session: AsyncSession, *, limit: int = 30) -> list[Decision]:
    """Open decisions, soonest due first."""
    query = select(Decision).where(Decision.status == OPEN)
    query = query.order_by(col(Decision.due_at), col(Decision.id)).limit(limit)
    return list((await session.exec(query)).all())


async def owners_of(session: AsyncSession, decision: Decision) -> list[Resident]:
    if decision.owner_resident_id is not None:
        person = await session.get(Resident, decision.owner_resident_id)
        return [person] if person else []
    if decision.owner_unit_id is not None:
        return await holders(session, role=Role.STAFF, unit_id=decision.owner_unit_id)
    return []


class Swept(NamedTuple):
    reminded: int  # decisions whose owners were reminded
    escalated: int  # decisions reported overdue
    notices: int  # notices queued for them (an owner unit may have nobody in it)


async def sweep_decisions(session: AsyncSession, *, now: datetime, tz: ZoneInfo) -> Swept:
    """Remind owners at 80% of the time, tell the secretaries once overdue: each stamped in the
    same transaction as its notices, so a repeat does nothing."""
    reminded = escalated = notices = 0
    query = select(Decision).where(Decision.status == OPEN, col(Decision.due_at).is_not(None))
    for decision in (await session.exec(query)).all():
        assert decision.due_at is not None
        window = decision.due_at - decision.created_at
        if decision.due_at <= now and decision.escalated_at is None:
            decision.escalated_at, people, kind = now, await secretaries(session), "decision_late"
            escalated += 1
        elif decision.reminded_at is None and now >= decision.due_at - window * (1 - REMIND_AT):
            decision.reminded_at, people, kind = (
                now,
                await owners_of(session, decision),
                "decision_soon",
            )
            reminded += 1
        else:
            continue
        session.add(decision)
        params = await decision_params(session, decision, tz)
        notices += await outbox.enqueue_each(
            session, to=people, kind=kind, params=params, key=str(decision.id)
        )
    await session.flush()
    return Swept(reminded, escalated, notices)
