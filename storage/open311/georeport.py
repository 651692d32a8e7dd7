"""Cases as Open311 GeoReport v2 sees them: services, requests, and filing through a key.

Only what is public leaves here: no reporter, no internal event, no contact details. Times are
UTC; the web edge formats them. Yishi's statuses fold into Open311's open/closed, with the
detailed status kept for `status_notes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import OPEN_STATUSES, Status, open_case
from storage.columns import possible_id
from storage.models import Case, CaseEvent, Category, Resident, Route, Unit
from storage.open311.apikey_models import ApiKey

SOURCE = "open311"
OPEN, CLOSED = "open", "closed"
CLOSED_STATUSES = frozenset(Status) - OPEN_STATUSES


def public_status(status: str) -> str:
    return OPEN if status in OPEN_STATUSES else CLOSED


@dataclass(frozen=True)
class Service:
    category: Category
    unit: Unit | None


@dataclass(frozen=True)
class Request:
    case: Case
    category: Category
    unit: Unit | None
    updated_at: datetime  # the last public event


@dataclass(frozen=True)
class Query:
    """GET requests: ids (which override the rest) or codes, a window, statuses, one page."""

    start: datetime
    end: datetime
    ids: tuple[int, ...] = ()
    codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()  # "open" / "closed"; empty = both
    page: int = 1
    page_size: int = 100


async def _units(session: AsyncSession) -> dict[int, Unit]:
    return {u.id: u for u in (await session.exec(select(Unit))).all() if u.id is not None}


async def _categories(session: AsyncSession) -> dict[int, Category]:
    rows = (await session.exec(select(Category))).all()
    return {c.id: c for c in rows if c.id is not None}


async def services(session: AsyncSession) -> list[Service]:
    """One service per active category, with the unit its route sends cases to."""
    units = await _units(session)
    routes = {r.category_id: r.unit_id for r in (await session.exec(select(Route))).all()}
    query = select(Category).where(col(Category.active)).order_by(col(Category.position))
    return [
        Service(category=c, unit=units.get(routes.get(c.id or 0, 0)))
        for c in (await session.exec(query)).all()
    ]


async def service(session: AsyncSession, code: str) -> Service | None:
    return next((s for s in await services(session) if s.category.code == code), None)


async def _last_public(session: AsyncSession, ids: list[int]) -> dict[int, datetime]:
    if not ids:
        return {}
    query = (
        select(CaseEvent.case_id, func.max(CaseEvent.at))
        .where(col(CaseEvent.case_id).in_(ids), col(CaseEvent.public))
        .group_by(col(CaseEvent.case_id))
    )
    rows = (await session.exec(query)).all()
    # func.max skips the UTCDateTime type on SQLite: read it back through the column type.
    return {case_id: _aware(at) for case_id, at in rows}


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _requests(session: AsyncSession, cases: list[Case]) -> list[Request]:
    categories, units = await _categories(session), await _units(session)
    updated = await _last_public(session, [c.id for c in cases if c.id is not None])
    return [
        Request(
            case=c,
            category=categories[c.category_id],
            unit=units.get(c.unit_id) if c.unit_id else None,
            updated_at=updated.get(c.id or 0, c.created_at),
        )
        for c in cases
    ]


async def find_requests(session: AsyncSession, query: Query) -> list[Request]:
    """One page of requests, newest filing first."""
    statement = select(Case)
    if query.ids:
        statement = statement.where(col(Case.id).in_(query.ids))
    else:
        statement = statement.where(
            col(Case.created_at) >= query.start, col(Case.created_at) <= query.end
        )
        # The window leads: code and status are written so that no index serves them
        # (`category_id + 0`, `status || ''`), and both databases walk the filing-time index
        # newest first, stopping at a page. Indexes on category or status would instead read
        # a year of one category and sort it (bench/open311.py: 0.2 s at 100k cases).
        if query.codes:
            codes = {c.code: i for i, c in (await _categories(session)).items()}
            wanted_ids = [codes[c] for c in query.codes if c in codes]
            statement = statement.where((col(Case.category_id) + 0).in_(wanted_ids))
        if query.statuses and query.statuses != {OPEN, CLOSED}:
            wanted = OPEN_STATUSES if OPEN in query.statuses else CLOSED_STATUSES
            statement = statement.where(col(Case.status).concat("").in_([str(s) for s in wanted]))
    statement = (
        statement.order_by(col(Case.created_at).desc(), col(Case.id).desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    )
    return await _requests(session, list((await session.exec(statement)).all()))


async def get_request(session: AsyncSession, number: int) -> Request | None:
    case = await session.get(Case, number) if possible_id(number) else None
    return (await _requests(session, [case]))[0] if case is not None else None


async def file_request(
    session: AsyncSession,
    *,
    key: ApiKey,
    number: int,
    category: Category,
    text: str,
    latitude: float | None,
    longitude: float | None,
    address: str | None,
    anonymous: bool,
    building: str | None,
    contact: str,
    today: date,
) -> Case:
    """File a case from a key's request `number`: routed and announced like any intake.

    Contact details, when the client sends any, become an internal note for staff: never
    public, never served.
    """
    assert key.resident_id is not None and key.id is not None
    reporter = await session.get(Resident, key.resident_id)
    assert reporter is not None
    case, _created = await open_case(
        session,
        reporter=reporter,
        category=category,
        text=text,
        source=SOURCE,
        source_chat_id=key.id,
        source_message_id=number,
        latitude=latitude,
        longitude=longitude,
        address=address,
        anonymous=anonymous,
        today=today,
    )
    if building:
        case.building = building
        session.add(case)
    if contact:
        assert case.id is not None
        session.add(
            CaseEvent(case_id=case.id, kind="contact", note=contact, public=False, actor_id=None)
        )
    await session.flush()
    return case
