"""What a reporter does with their case: confirm it is fixed, rate it, reopen it, follow up."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import assignment, routing
from storage.cases.notify import notify_handlers, notify_secretaries
from storage.cases.records import Action, CaseMovedOn, Status, change_status, require
from storage.cases.workflow import clean_note, record_event
from storage.errors import InvalidTransition, NotAllowed, StorageError
from storage.models import Case, Resident, utcnow


class AlreadyRated(StorageError):
    """The case has its rating: the first one counts. Carries the stars that stand."""

    def __init__(self, number: int, stars: int) -> None:
        super().__init__(f"case {number} is rated {stars}")
        self.number, self.stars = number, stars


async def _reporter_only(case: Case, resident: Resident) -> None:
    if case.reporter_id != resident.id:
        raise NotAllowed(f"case {case.id} is not theirs")


async def confirm_fixed(session: AsyncSession, *, case: Case, resident: Resident) -> None:
    await _reporter_only(case, resident)
    require(case, Action.ANSWER_FIXED)
    case.closed_at = utcnow()
    await change_status(session, case=case, to=Status.CLOSED, actor=resident)


async def rate(session: AsyncSession, *, case: Case, resident: Resident, stars: int) -> None:
    """One rating per case, the first: a later or racing one raises AlreadyRated."""
    await _reporter_only(case, resident)
    if not 1 <= stars <= 5:
        raise InvalidTransition("rating")
    # A conditional UPDATE is the claim: of two presses racing (on two instances, say), the
    # second waits on the row lock (or SQLite's writer lock), then matches no row.
    claim = (
        update(Case)
        .where(
            col(Case.id) == case.id,
            col(Case.status) == Status.CLOSED,
            col(Case.satisfaction).is_(None),
        )
        .values(satisfaction=stars)
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(claim)
    await session.refresh(case)
    assert case.id is not None
    if result.rowcount != 1:
        if case.satisfaction is not None:
            raise AlreadyRated(case.id, case.satisfaction)
        raise CaseMovedOn(case.id, case.status)
    await record_event(
        session, case=case, actor=resident, kind="rated", note=str(stars), public=True
    )


async def reopen(
    session: AsyncSession, *, case: Case, resident: Resident, reason: str, today: date
) -> None:
    """ "Not fixed": the case goes back to whoever handled it, with a fresh deadline."""
    await _reporter_only(case, resident)
    reason = clean_note(reason)
    event = await change_status(session, case=case, to=Status.REOPENED, actor=resident, note=reason)
    case.resolved_at = case.closed_at = None
    route = await routing.route_for(session, category_id=case.category_id)
    now = utcnow()
    case.due_at = now + (route.due if route else assignment.DEFAULT_DUE)
    case.reminded_at = case.escalated_at = None
    session.add(case)
    people = await assignment.handlers_of(session, case, today=today)
    await notify_handlers(
        session,
        case=case,
        people=people,
        kind="reopened",
        event=event,
        extra={"reason": reason},
    )


async def follow_up(
    session: AsyncSession, *, case: Case, resident: Resident, text: str, today: date
) -> list[Resident]:
    """A reporter's message on their case, forwarded to whoever handles it (or secretaries)."""
    await _reporter_only(case, resident)
    text = clean_note(text)
    event = await record_event(
        session, case=case, actor=resident, kind="followup", note=text, public=True
    )
    people = await assignment.handlers_of(session, case, today=today)
    if people:
        await notify_handlers(
            session,
            case=case,
            people=people,
            kind="followup",
            event=event,
            extra={"message": text},
        )
    else:
        await notify_secretaries(
            session, case=case, kind="followup", event=event, extra={"message": text}
        )
    return people


async def case_of_notice(
    session: AsyncSession, *, channel: str, chat_id: int, message_id: int
) -> int | None:
    """The case a sent notice was about, so a reply to it reaches the case."""
    from sqlmodel import select

    from storage.models import OutboxMessage

    query = select(OutboxMessage).where(
        OutboxMessage.channel == channel,
        OutboxMessage.address == str(chat_id),
        OutboxMessage.sent_message_id == message_id,
    )
    row = (await session.exec(query)).first()
    number = row.params.get("case") if row else None
    return number if isinstance(number, int) else None
