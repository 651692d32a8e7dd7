"""What a whistle gathered: counts per option, response rate per building, opinions grouped.

Plain numbers and texts, never a name. The rate of a building is answered / reached there
(residents without a building under None); answers from outside the audience (recorded by
storage/whistle/answers.py with in_audience=False) are counted apart, never in a rate. Opinions
are grouped by similarity (storage/similarity.py), the most common group first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, Resident
from storage.outbox import Status
from storage.similarity import cluster
from storage.text import mask_phones
from storage.whistle.models import Whistle, WhistleAnswer, WhistleDelivery, WhistleOpinion
from storage.whistle.timetable import TAKING_ANSWERS

OPINION_GROUPS = 8  # the most common groups shown; the rest are summed up in one line
EXCERPT = 200


@dataclass(frozen=True)
class OptionCount:
    label: str
    count: int  # answers from the audience
    outside: int = 0  # answers from people outside the audience


@dataclass(frozen=True)
class BuildingRate:
    building: str | None  # None: residents who gave no building
    reached: int
    answered: int
    outside: int = 0  # responders from outside the audience, not in the rate

    @property
    def rate(self) -> float | None:
        return self.answered / self.reached if self.reached else None


@dataclass(frozen=True)
class OpinionGroup:
    text: str  # the group's first opinion, phone numbers masked
    count: int


@dataclass
class Results:
    whistle_id: int
    question: str
    status: str
    deadline_at: datetime | None
    options: list[OptionCount]
    buildings: list[BuildingRate]
    opinions: list[OpinionGroup]
    opinion_count: int = 0
    other_opinions: int = 0  # opinions in the groups not shown

    @property
    def reached(self) -> int:
        return sum(b.reached for b in self.buildings)

    @property
    def answered(self) -> int:
        return sum(b.answered for b in self.buildings)

    @property
    def outside(self) -> int:
        return sum(b.outside for b in self.buildings)


async def whistle_results(session: AsyncSession, *, whistle: Whistle) -> Results:
    """The results as they stand (final once the whistle is closed)."""
    assert whistle.id is not None
    answers = list(
        await session.exec(select(WhistleAnswer).where(WhistleAnswer.whistle_id == whistle.id))
    )
    opinions = list(
        await session.exec(
            select(WhistleOpinion)
            .where(WhistleOpinion.whistle_id == whistle.id)
            .order_by(col(WhistleOpinion.id))
        )
    )
    counts = [[0, 0] for _ in whistle.options]
    for answer in answers:
        if 0 <= answer.option < len(counts):
            counts[answer.option][0 if answer.in_audience else 1] += 1
    options = [
        OptionCount(label, inside, outside)
        for label, (inside, outside) in zip(whistle.options, counts, strict=True)
    ]
    groups = cluster([o.text for o in opinions])
    shown = [
        OpinionGroup(_excerpt(opinions[g.representative].text), len(g.members))
        for g in groups[:OPINION_GROUPS]
    ]
    return Results(
        whistle_id=whistle.id,
        question=whistle.question,
        status=whistle.status,
        deadline_at=whistle.deadline_at,
        options=options,
        buildings=await _buildings(session, whistle.id, answers, opinions),
        opinions=shown,
        opinion_count=len(opinions),
        other_opinions=len(opinions) - sum(g.count for g in shown),
    )


def _excerpt(text: str) -> str:
    text = mask_phones(" ".join(text.split()))
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


async def _buildings(
    session: AsyncSession,
    whistle_id: int,
    answers: list[WhistleAnswer],
    opinions: list[WhistleOpinion],
) -> list[BuildingRate]:
    """Reached: private recipients the whistle was delivered to, and anyone in the audience who
    answered (a group member reached through the group). A responder counts once, in the
    building they gave when answering."""
    delivered = (
        select(WhistleDelivery.resident_id, Resident.building)
        .join(Resident, col(WhistleDelivery.resident_id) == Resident.id)
        .join(OutboxMessage, col(OutboxMessage.id) == WhistleDelivery.outbox_id)
        .where(WhistleDelivery.whistle_id == whistle_id, OutboxMessage.status == Status.SENT)
    )
    building: dict[int, str | None] = {
        resident_id: name
        for resident_id, name in (await session.exec(delivered)).all()
        if resident_id is not None
    }
    reached = set(building)
    inside: set[int] = set()
    outside: set[int] = set()
    responses: list[WhistleAnswer | WhistleOpinion] = [*answers, *opinions]
    for response in responses:
        if response.building is not None or response.resident_id not in building:
            building[response.resident_id] = response.building
        (inside if response.in_audience else outside).add(response.resident_id)
    inside |= outside & reached  # reached privately, so in the audience whatever else they did
    outside -= inside
    reached |= inside
    tally: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])
    for resident_id in reached:
        tally[building[resident_id]][0] += 1
    for resident_id in inside:
        tally[building[resident_id]][1] += 1
    for resident_id in outside:
        tally[building[resident_id]][2] += 1
    rows = [BuildingRate(name, *figures) for name, figures in tally.items()]
    return sorted(rows, key=lambda b: (b.building is None, b.building or ""))


async def response_counts(session: AsyncSession, *, whistle_ids: list[int]) -> dict[int, int]:
    """How many residents responded to each whistle (by button, opinion, or both)."""
    if not whistle_ids:
        return {}
    union = (
        select(WhistleAnswer.whistle_id, WhistleAnswer.resident_id)
        .where(col(WhistleAnswer.whistle_id).in_(whistle_ids))
        .union(
            select(WhistleOpinion.whistle_id, WhistleOpinion.resident_id).where(
                col(WhistleOpinion.whistle_id).in_(whistle_ids)
            )
        )
        .subquery()
    )
    query = select(union.c.whistle_id, func.count()).group_by(union.c.whistle_id)
    found = dict((await session.exec(query)).all())
    return {whistle_id: int(found.get(whistle_id, 0)) for whistle_id in whistle_ids}


async def recent_whistles(session: AsyncSession, *, limit: int = 15) -> list[Whistle]:
    """Open whistles first, then the past ones, newest first (drafts are not listed)."""
    query = select(Whistle).where(col(Whistle.status) != "draft")
    order = (col(Whistle.status).in_(TAKING_ANSWERS).desc(), col(Whistle.id).desc())
    return list((await session.exec(query.order_by(*order).limit(limit))).all())
