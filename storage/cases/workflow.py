"""What handlers and secretaries do to a case. Each action: check, change, record, notify.

Every function runs inside the caller's one transaction; the state change, its CaseEvent and
the outbox notices it causes are committed together or not at all.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import assignment, routing
from storage.cases.notify import notify_reporter, notify_secretaries
from storage.cases.records import OPEN_STATUSES, Action, Status, change_status, require
from storage.errors import InvalidInput, InvalidTransition
from storage.models import Case, CaseEvent, Category, Resident, utcnow
from storage.people.roles import Authority, Role

NOTE_MAX = 1000


def clean_note(text: str | None, *, required: bool = True) -> str:
    note = (text or "").strip()
    if required and not note:
        raise InvalidInput("empty")
    if len(note) > NOTE_MAX:
        raise InvalidInput("too_long", limit=NOTE_MAX, length=len(note))
    return note


async def record_event(
    session: AsyncSession,
    *,
    case: Case,
    actor: Resident | None,
    kind: str,
    note: str,
    public: bool,
) -> CaseEvent:
    assert case.id is not None
    event = CaseEvent(
        case_id=case.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        note=note,
        public=public,
    )
    session.add(event)
    await session.flush()
    return event


def _first_response(case: Case, now: datetime) -> None:
    if case.first_response_at is None:
        case.first_response_at = now


async def accept(session: AsyncSession, *, case: Case, actor: Resident, auth: Authority) -> None:
    await assignment.require_handler(session, auth, case)
    require(case, Action.ACCEPT)
    _first_response(case, utcnow())
    event = await change_status(session, case=case, to=Status.ACCEPTED, actor=actor)
    await notify_reporter(session, case=case, event=event)


async def add_progress(
    session: AsyncSession,
    *,
    case: Case,
    actor: Resident,
    auth: Authority,
    note: str,
    public: bool = True,
) -> None:
    """A progress note; the first one moves an accepted case to "in progress"."""
    await assignment.require_handler(session, auth, case)
    note = clean_note(note)
    require(case, Action.PROGRESS)
    _first_response(case, utcnow())
    if public and case.status in (Status.NEW, Status.REOPENED):
        await change_status(session, case=case, to=Status.ACCEPTED, actor=actor)
    if public and case.status == Status.ACCEPTED:
        event = await change_status(
            session, case=case, to=Status.IN_PROGRESS, actor=actor, note=note
        )
    else:
        event = await record_event(
            session, case=case, actor=actor, kind="note", note=note, public=public
        )
    if public:
        await notify_reporter(session, case=case, event=event)


async def resolve(
    session: AsyncSession,
    *,
    case: Case,
    actor: Resident,
    auth: Authority,
    note: str,
    photo: int | None = None,  # a media_files id (storage/media.py)
) -> None:
    await assignment.require_handler(session, auth, case)
    note = clean_note(note)
    require(case, Action.RESOLVE)
    if case.status == Status.NEW:
        await change_status(session, case=case, to=Status.ACCEPTED, actor=actor)
    now = utcnow()
    _first_response(case, now)
    event = await change_status(session, case=case, to=Status.RESOLVED, actor=actor, note=note)
    case.resolved_at = now
    if photo is not None:
        case.photos = [*case.photos, photo]
    session.add(case)
    await notify_reporter(session, case=case, event=event, extra={"photo": photo})


async def not_ours(
    session: AsyncSession, *, case: Case, actor: Resident, auth: Authority, reason: str
) -> None:
    """The unit hands the case back to the secretaries for triage, with a reason."""
    unit = await assignment.require_handler(session, auth, case)
    reason = clean_note(reason)
    require(case, Action.NOT_OURS)
    if case.status == Status.ACCEPTED:
        await change_status(session, case=case, to=Status.NEW, actor=actor, public=False)
    case.unit_id = case.assignee_id = case.due_at = None
    session.add(case)
    event = await record_event(
        session, case=case, actor=actor, kind="returned", note=reason, public=False
    )
    await notify_secretaries(
        session,
        case=case,
        kind="returned",
        event=event,
        extra={"reason": reason, "unit": unit.code if unit else None, "by": actor.name},
    )


async def reject(
    session: AsyncSession,
    *,
    case: Case,
    actor: Resident,
    auth: Authority,
    reason: str,
    responsible: str | None = None,
) -> None:
    auth.require(Role.SECRETARY)
    reason = clean_note(reason)
    case.responsible_party = (responsible or "").strip()[:200] or None
    event = await change_status(session, case=case, to=Status.REJECTED, actor=actor, note=reason)
    await notify_reporter(
        session, case=case, event=event, extra={"responsible": case.responsible_party}
    )


async def mark_duplicate(
    session: AsyncSession, *, case: Case, original: Case, actor: Resident, auth: Authority
) -> None:
    auth.require(Role.SECRETARY)
    if original.id == case.id or original.duplicate_of_id is not None:
        raise InvalidInput("bad_original")
    case.duplicate_of_id = original.id
    event = await change_status(session, case=case, to=Status.DUPLICATE, actor=actor)
    await notify_reporter(session, case=case, event=event, extra={"original": original.id})


async def recategorise(
    session: AsyncSession,
    *,
    case: Case,
    category: Category,
    actor: Resident,
    auth: Authority,
    today: date,
) -> None:
    """A new category re-routes an open case to that category's unit."""
    auth.require(Role.SECRETARY)
    if case.status not in OPEN_STATUSES:
        raise InvalidTransition(f"{case.status}: finished cases keep their category")
    assert category.id is not None
    old = case.category_id
    case.category_id = category.id
    await record_event(
        session,
        case=case,
        actor=actor,
        kind="recategorised",
        note=f"{old} -> {category.code}",
        public=False,
    )
    route = await routing.route_for(session, category_id=category.id)
    if route is not None:
        await assignment.assign(session, case=case, unit=route.unit, actor=actor, today=today)


async def internal_note(
    session: AsyncSession, *, case: Case, actor: Resident, auth: Authority, note: str
) -> None:
    """Staff-only remark: never shown to residents."""
    await add_progress(session, case=case, actor=actor, auth=auth, note=note, public=False)
