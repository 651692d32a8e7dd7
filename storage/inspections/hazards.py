"""Joint inspections: rounds, and the hazards logged on them as cases of source "inspection".

A hazard is one line, "place / responsible party / days to rectify", plus its kind. The line is
the inspector's own chat message and the kind comes from a button under the bot's reply to it,
so nothing half-logged is kept anywhere: the message is the draft (see handlers/cases/inspect.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy import case as when
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.cases import assignment, categories, drafts, open_case
from storage.cases.states import HANDLED, NOT_ACCEPTED
from storage.errors import InvalidInput, StaleAction
from storage.models import Case, Hazard, InspectionRound, PendingInput, Resident, utcnow

logger = logging.getLogger(__name__)

SOURCE = "inspection"
PLACE_MAX = 300  # Hazard.place
RESPONSIBLE_MAX = 200  # Hazard.responsible_party
DAYS_MAX = 365
# "7", "7天", "7 days": a number of days, nothing else; 0 means "by the end of today".
_DAYS = re.compile(r"^(\d{1,3})\s*(?:天|日|d|days?)?$", re.IGNORECASE)


class HazardKind(StrEnum):
    GROUP_RENTAL = "group_rental"
    SMALL_VENUES = "small_venues"  # "three small places": small shops, workshops, eateries
    UNDERGROUND_PARKING = "underground_parking"
    UTILITIES = "utilities"  # water and electricity use
    FIRE_PASSAGE = "fire_passage"
    OTHER = "other"


def category_code(kind: HazardKind) -> str:
    """Group-rental hazards count and route as group rental; the rest as safety hazards."""
    return "group_rental" if kind is HazardKind.GROUP_RENTAL else "safety"


@dataclass(frozen=True)
class HazardLine:
    place: str
    responsible: str
    days: int


def parse_line(text: str | None) -> HazardLine:
    """`3号楼车库 / 物业公司 / 7` -> HazardLine, or InvalidInput with the reason why not."""
    # Split from the right: a place may itself hold a slash ("3/4号楼之间").
    parts = [" ".join(p.split()) for p in (text or "").replace("／", "/").rsplit("/", 2)]
    if len(parts) != 3 or not all(parts):
        raise InvalidInput("hazard_format")
    place, responsible, days_text = parts
    match = _DAYS.match(days_text)
    if match is None or int(match[1]) > DAYS_MAX:
        raise InvalidInput("hazard_days", limit=DAYS_MAX)
    if len(place) > PLACE_MAX:
        raise InvalidInput("too_long", limit=PLACE_MAX, length=len(place))
    if len(responsible) > RESPONSIBLE_MAX:
        raise InvalidInput("too_long", limit=RESPONSIBLE_MAX, length=len(responsible))
    return HazardLine(place=place, responsible=responsible, days=int(match[1]))


def rectification_deadline(day: date, days: int, tz: tzinfo) -> datetime:
    """The last second of the local day `days` after `day`, in UTC."""
    return datetime.combine(day + timedelta(days=days), time(23, 59, 59), tz).astimezone(UTC)


async def open_round(session: AsyncSession, *, inspector: Resident) -> InspectionRound | None:
    query = (
        select(InspectionRound)
        .where(
            InspectionRound.inspector_id == inspector.id, col(InspectionRound.ended_at).is_(None)
        )
        .order_by(col(InspectionRound.id).desc())
    )
    return (await session.exec(query)).first()


async def start_round(
    session: AsyncSession, *, inspector: Resident
) -> tuple[InspectionRound, bool]:
    """The inspector's open round, or a new one; returns (round, started)."""
    # Two instances handling two quick /inspect would otherwise both start a round: the
    # inspector's row is the lock (PostgreSQL; SQLite has one writer at a time anyway).
    await session.exec(select(Resident.id).where(Resident.id == inspector.id).with_for_update())
    current = await open_round(session, inspector=inspector)
    if current is not None:
        return current, False
    assert inspector.id is not None
    started = InspectionRound(inspector_id=inspector.id)
    session.add(started)
    await session.flush()
    logger.info("inspector %s started round %s", inspector.id, started.id)
    return started, True


async def round_in_progress(
    session: AsyncSession, *, inspector: Resident, round_id: int
) -> InspectionRound:
    """The named round if it is this inspector's and still open; else StaleAction."""
    found = await session.get(InspectionRound, round_id)
    if found is None or found.inspector_id != inspector.id or found.ended_at is not None:
        raise StaleAction("round")
    return found


async def end_round(
    session: AsyncSession, *, inspector: Resident, round_id: int
) -> InspectionRound:
    ending = await round_in_progress(session, inspector=inspector, round_id=round_id)
    ending.ended_at = utcnow()
    session.add(ending)
    await session.flush()
    return ending


async def log_hazard(
    session: AsyncSession,
    *,
    round_: InspectionRound,
    inspector: Resident,
    kind: HazardKind,
    line: HazardLine,
    photo: int | None,  # a media_files id (storage/media.py)
    today: date,
    tz: tzinfo,
    source_chat_id: int,
    source_message_id: int,
) -> tuple[Case, bool]:
    """File a hazard as a case and route it; returns (case, created).

    The inspector's message is the case's source, so pressing a kind twice (or on two
    instances) files it once. `today` is the local day the line was written.
    """
    category = await categories.category_by_code(session, category_code(kind))
    case, created = await open_case(
        session,
        reporter=inspector,
        category=category,
        text=line.place,
        source=SOURCE,
        source_chat_id=source_chat_id,
        source_message_id=source_message_id,
        photos=[photo] if photo is not None else [],
    )
    if not created:
        return case, False
    assert case.id is not None and round_.id is not None
    deadline = rectification_deadline(today, line.days, tz)
    session.add(
        Hazard(
            case_id=case.id,
            round_id=round_.id,
            kind=kind,
            place=line.place,
            responsible_party=line.responsible,
            deadline=deadline,
        )
    )
    await session.flush()
    await assignment.route_new_case(session, case=case, today=today, due_at=deadline)
    return case, True


async def round_taking_hazards(
    session: AsyncSession, *, resident: Resident
) -> InspectionRound | None:
    """The open round this person's next private message logs to; None while the bot awaits
    something else from them (a note, a reason, a report step): that answer comes first."""
    current = await open_round(session, inspector=resident)
    if current is None or await session.get(PendingInput, resident.id) is not None:
        return None
    return None if await drafts.current_draft(session, resident=resident) else current


@dataclass(frozen=True)
class RoundSummary:
    """Found: hazards logged, less those rejected or marked duplicate; rectified: of those,
    the ones resolved or closed after resolution (as the office's figures count them)."""

    round: InspectionRound
    inspector: str
    found: int
    rectified: int


async def rounds(
    session: AsyncSession, *, inspector: Resident | None, limit: int = 20
) -> list[RoundSummary]:
    """The newest rounds with their counts: one inspector's, or everyone's (None)."""
    found = col(Case.status).not_in(NOT_ACCEPTED)
    rectified = col(Case.status).in_(HANDLED)
    query = (
        select(
            InspectionRound,
            Resident.name,
            func.coalesce(func.sum(when((found, 1), else_=0)), 0),
            func.coalesce(func.sum(when((rectified, 1), else_=0)), 0),
        )
        .join(Resident, col(Resident.id) == InspectionRound.inspector_id)
        .outerjoin(Hazard, col(Hazard.round_id) == InspectionRound.id)
        .outerjoin(Case, col(Case.id) == Hazard.case_id)
        .group_by(col(InspectionRound.id), col(Resident.id))
        .order_by(col(InspectionRound.id).desc())
        .limit(limit)
    )
    if inspector is not None:
        query = query.where(InspectionRound.inspector_id == inspector.id)
    rows = (await session.exec(query)).all()
    return [RoundSummary(r, name, int(f), int(done)) for r, name, f, done in rows]
