"""The case lifecycle: opening (and routing) cases, status changes by the one state machine
(storage/cases/states.py), and what a reporter may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases.assignment import route_new_case
from storage.cases.states import OPEN_STATUSES as OPEN_STATUSES  # the state machine, re-exported
from storage.cases.states import TRANSITIONS as TRANSITIONS
from storage.cases.states import Action as Action
from storage.cases.states import CaseMovedOn as CaseMovedOn
from storage.cases.states import Status as Status
from storage.cases.states import allows as allows
from storage.cases.states import require as require
from storage.columns import possible_id
from storage.errors import CaseNotFound, InvalidTransition
from storage.models import Case, CaseEvent, Category, Resident, utcnow


@dataclass(frozen=True)
class CaseView:
    """A case as its reporter sees it: the public timeline only."""

    case: Case
    category: Category
    events: list[CaseEvent]


async def open_case(
    session: AsyncSession,
    *,
    reporter: Resident,
    category: Category,
    text: str,
    source: str,
    source_chat_id: int,
    source_message_id: int,
    photos: list[int] | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str | None = None,
    anonymous: bool = False,
    today: date | None = None,
) -> tuple[Case, bool]:
    """File a case; returns (case, created). A source message already filed returns its case.

    With `today` (the local date, for the mediation roster) a new case is routed at once.
    """
    existing = await case_from_source(
        session, channel=reporter.channel, chat_id=source_chat_id, message_id=source_message_id
    )
    if existing is not None:
        return existing, False
    assert reporter.id is not None and category.id is not None
    now = utcnow()
    case = Case(
        category_id=category.id,
        text=text,
        photos=list(photos or []),
        latitude=latitude,
        longitude=longitude,
        address=address,
        reporter_id=reporter.id,
        building=reporter.building,
        anonymous=anonymous,
        source=source,
        source_channel=reporter.channel,
        source_chat_id=source_chat_id,
        source_message_id=source_message_id,
        status=Status.NEW,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(case)
            await session.flush()
    except IntegrityError:
        # Another instance filed the same message a moment ago: return that case.
        existing = await case_from_source(
            session, channel=reporter.channel, chat_id=source_chat_id, message_id=source_message_id
        )
        if existing is None:
            raise
        return existing, False
    assert case.id is not None
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor_id=reporter.id,
            kind="opened",
            to_status=Status.NEW,
            public=True,
        )
    )
    await session.flush()
    if today is not None:
        await route_new_case(session, case=case, today=today, now=now)
    return case, True


async def change_status(
    session: AsyncSession,
    *,
    case: Case,
    to: Status,
    actor: Resident | None,
    note: str = "",
    public: bool = True,
) -> CaseEvent:
    """The only writer of Case.status: checks the table and records the event."""
    current = Status(case.status)
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(f"{current} -> {to}")
    assert case.id is not None
    now = utcnow()
    event = CaseEvent(
        case_id=case.id,
        at=now,
        actor_id=actor.id if actor else None,
        kind="status",
        from_status=current,
        to_status=to,
        note=note,
        public=public,
    )
    case.status = to
    case.updated_at = now
    session.add(case)
    session.add(event)
    await session.flush()
    return event


async def case_from_source(
    session: AsyncSession, *, channel: str, chat_id: int, message_id: int
) -> Case | None:
    query = select(Case).where(
        Case.source_channel == channel,
        Case.source_chat_id == chat_id,
        Case.source_message_id == message_id,
    )
    return (await session.exec(query)).first()


async def get_case(session: AsyncSession, *, number: int) -> Case:
    if not possible_id(number):
        raise CaseNotFound(number)
    case = await session.get(Case, number)
    if case is None:
        raise CaseNotFound(number)
    return case


async def case_events(session: AsyncSession, *, case: Case) -> list[CaseEvent]:
    """Every event of the case, internal ones too, in the order they were written."""
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
    return list((await session.exec(query)).all())


async def last_source_messages(session: AsyncSession) -> dict[int, int]:
    """The highest message id a case was filed from, in each chat cases came from."""
    query = select(Case.source_chat_id, func.max(Case.source_message_id)).group_by(
        col(Case.source_chat_id)
    )
    return {
        chat: top
        for chat, top in (await session.exec(query)).all()
        if chat is not None and top is not None
    }


async def case_view(session: AsyncSession, *, case: Case, internal: bool) -> CaseView:
    """A case with its timeline: public events only, or everything for staff."""
    category = await session.get(Category, case.category_id)
    assert category is not None and case.id is not None
    query = select(CaseEvent).where(CaseEvent.case_id == case.id)
    if not internal:
        query = query.where(col(CaseEvent.public))
    events = (await session.exec(query.order_by(col(CaseEvent.at), col(CaseEvent.id)))).all()
    return CaseView(case=case, category=category, events=list(events))


async def reporter_case(session: AsyncSession, *, number: int, viewer: Resident) -> CaseView:
    """One case for its reporter; anyone else's case reads as not found."""
    case = await get_case(session, number=number)
    if case.reporter_id != viewer.id:
        raise CaseNotFound(number)
    return await case_view(session, case=case, internal=False)


async def reporter_cases(
    session: AsyncSession, *, reporter: Resident, limit: int = 20
) -> list[tuple[Case, Category]]:
    """The reporter's own cases, newest first."""
    query = (
        select(Case, Category)
        .join(Category, col(Category.id) == Case.category_id)
        .where(Case.reporter_id == reporter.id)
        .order_by(col(Case.id).desc())
        .limit(limit)
    )
    return [(case, category) for case, category in (await session.exec(query)).all()]


async def count_reporter_cases(session: AsyncSession, *, reporter: Resident) -> int:
    query = select(func.count()).select_from(Case).where(Case.reporter_id == reporter.id)
    return int((await session.exec(query)).one())
