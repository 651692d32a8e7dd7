"""Who handles a case: routing to a unit or a person, and who may act on it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.cases import routing
from storage.cases.notify import notify_handlers, secretaries
from storage.cases.states import OPEN_STATUSES
from storage.errors import NotAllowed
from storage.models import Case, CaseEvent, Dispute, Resident, Route, Unit, utcnow
from storage.people.roles import Authority, Role, holders
from storage.text import mask_phones

DEFAULT_DUE = timedelta(hours=routing.DEFAULT_DUE_HOURS)


async def handlers_of(session: AsyncSession, case: Case, *, today: date) -> list[Resident]:
    """Who is told about the case: its named assignee, else its unit's people.

    Mediation cases go to the mediators on duty that day (all mediators when the roster is
    empty, so a dispute never waits unseen).
    """
    if case.assignee_id is not None:
        person = await session.get(Resident, case.assignee_id)
        return [person] if person else []
    unit = await routing.unit_of(session, case)
    if unit is None:
        return []
    if routing.is_mediation(unit):
        return await routing.on_duty(session, day=today) or await holders(
            session, role=Role.MEDIATOR
        )
    return await holders(session, role=Role.STAFF, unit_id=unit.id)


def may_handle(auth: Authority, case: Case, unit: Unit | None) -> bool:
    """Secretaries act on any case; others only on their unit's cases or their own."""
    if auth.is_secretary:
        return True
    if case.assignee_id is not None and case.assignee_id == auth.resident_id:
        return True
    if unit is None:
        return False
    if routing.is_mediation(unit):
        return auth.has(Role.MEDIATOR)
    return auth.has(Role.STAFF) and unit.id in auth.unit_ids


async def require_handler(session: AsyncSession, auth: Authority, case: Case) -> Unit | None:
    unit = await routing.unit_of(session, case)
    if not may_handle(auth, case, unit):
        raise NotAllowed(f"case {case.id}")
    return unit


async def assign(
    session: AsyncSession,
    *,
    case: Case,
    unit: Unit | None,
    person: Resident | None = None,
    actor: Resident | None,
    today: date,
    now: datetime | None = None,
    due_at: datetime | None = None,
) -> list[Resident]:
    """Route a case to a unit (and optionally one person); tell whoever now handles it.

    It is due by its category's route time from now, or at `due_at` when given.
    """
    now = now or utcnow()
    assert case.id is not None
    case.unit_id = unit.id if unit else None
    case.assignee_id = person.id if person else None
    if due_at is None:
        route = await routing.route_for(session, category_id=case.category_id)
        due_at = now + (route.due if route else DEFAULT_DUE)
    case.due_at = due_at
    case.reminded_at = case.escalated_at = None
    case.updated_at = now
    session.add(case)
    note = " / ".join(x for x in (unit.code if unit else "", person.name if person else "") if x)
    event = CaseEvent(
        case_id=case.id,
        at=now,
        actor_id=actor.id if actor else None,
        kind="assigned",
        note=note,
        public=False,
    )
    session.add(event)
    await session.flush()
    people = await handlers_of(session, case, today=today)
    await notify_handlers(session, case=case, people=people, kind="assigned", event=event)
    return people


async def return_to_desk(
    session: AsyncSession,
    *,
    mediator: Resident,
    actor: Resident | None,
    today: date,
    now: datetime | None = None,
) -> list[Case]:
    """A mediator's role ended: their open disputes go back to the mediation desk.

    Their disputes are the open cases named to them that belong to the desk: in its unit, of
    a category routed there, or with dispute particulars recorded. Each gets an "assigned"
    event and goes to whoever staffs the desk today; the secretaries other than `actor` get
    one notice listing them. The due time stays: the resident has waited long enough.
    """
    desk = await routing.unit_by_code(session, routing.MEDIATION)
    if desk is None or desk.id is None:
        return []
    routed_there = select(Route.category_id).where(Route.unit_id == desk.id)
    query = select(Case).where(
        col(Case.assignee_id) == mediator.id,
        col(Case.status).in_(OPEN_STATUSES),
        or_(
            col(Case.unit_id) == desk.id,
            col(Case.category_id).in_(routed_there),
            col(Case.id).in_(select(Dispute.case_id)),
        ),
    )
    returned = list((await session.exec(query.order_by(col(Case.id)))).all())
    now = now or utcnow()
    events: list[CaseEvent] = []
    for case in returned:
        assert case.id is not None
        case.unit_id, case.assignee_id, case.updated_at = desk.id, None, now
        session.add(case)
        event = CaseEvent(
            case_id=case.id,
            at=now,
            actor_id=actor.id if actor else None,
            kind="assigned",
            note=desk.code,
            public=False,
        )
        session.add(event)
        await session.flush()
        events.append(event)
        people = await handlers_of(session, case, today=today)
        await notify_handlers(session, case=case, people=people, kind="assigned", event=event)
    if returned:
        office = [p for p in await secretaries(session) if actor is None or p.id != actor.id]
        params = {"mediator": mask_phones(mediator.name), "cases": [c.id for c in returned]}
        await outbox.enqueue_each(
            session, to=office, kind="disputes_returned", params=params,
            key=f"{mediator.id}:{events[0].id}",
        )  # fmt: skip
    return returned


async def route_new_case(
    session: AsyncSession,
    *,
    case: Case,
    today: date,
    now: datetime | None = None,
    due_at: datetime | None = None,
) -> list[Resident]:
    """Send a freshly filed case (a report, or a hazard due at `due_at`, its rectification
    deadline) to its category's unit; unrouted categories wait for triage."""
    route = await routing.route_for(session, category_id=case.category_id)
    if route is None:
        if due_at is not None:  # a hazard waits in the secretaries' /queue, still due then
            case.due_at = due_at
            session.add(case)
            await session.flush()
        return []
    return await assign(
        session, case=case, unit=route.unit, actor=None, today=today, now=now, due_at=due_at
    )


async def todo(session: AsyncSession, *, auth: Authority, limit: int = 30) -> list[Case]:
    """A handler's open cases, oldest first: their unit's and those named to them."""
    query = select(Case).where(col(Case.status).in_(OPEN_STATUSES))
    mediation = await routing.unit_by_code(session, routing.MEDIATION)
    units = set(auth.unit_ids)
    if auth.has(Role.MEDIATOR) and mediation is not None and mediation.id is not None:
        units.add(mediation.id)
    query = query.where((col(Case.assignee_id) == auth.resident_id) | col(Case.unit_id).in_(units))
    return list((await session.exec(query.order_by(col(Case.id)).limit(limit))).all())


async def triage_queue(session: AsyncSession, *, limit: int = 30) -> list[Case]:
    """New cases no unit has: unrouted categories and cases sent back as "not ours"."""
    query = (
        select(Case)
        .where(Case.status == "new", col(Case.unit_id).is_(None), col(Case.assignee_id).is_(None))
        .order_by(col(Case.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())
