"""Residents' answers to a whistle: button answers, written opinions, and opinion -> case.

Anyone may answer while a whistle is open (before its deadline): people outside the audience
are recorded too, with `in_audience=False`, so the results can count them apart. One answer per
resident (pressing again changes it); one opinion per source message (a redelivered update is
harmless). Names are never part of what groups see; the secretary sees opinions in private.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.cases import categories, open_case
from storage.errors import InvalidInput, NotAllowed, StaleAction
from storage.models import Case, OutboxMessage, Resident
from storage.people.roles import Authority
from storage.whistle.models import Whistle, WhistleAnswer, WhistleDelivery, WhistleOpinion
from storage.whistle.whistles import Status

OPINION_MAX = 2000
CASE_SOURCE = "whistle"
CASE_NOTICE = "whistle_case"  # tells the author their opinion is now a case


class WhistleClosed(StaleAction):
    """The whistle no longer takes answers (past its deadline, closed or cancelled)."""


@dataclass(frozen=True)
class Answered:
    whistle: Whistle
    option: int
    previous: int | None  # the earlier answer, if this press changed it
    in_audience: bool

    @property
    def changed(self) -> bool:
        return self.previous is not None and self.previous != self.option


async def open_whistle(session: AsyncSession, *, whistle_id: int, now: datetime) -> Whistle:
    """The whistle if it takes answers at `now`; WhistleClosed or StaleAction otherwise."""
    whistle = await session.get(Whistle, whistle_id)
    if whistle is None or whistle.status == Status.DRAFT:
        raise StaleAction("no such whistle")
    if whistle.status != Status.OPEN or (whistle.deadline_at and whistle.deadline_at <= now):
        raise WhistleClosed("closed")
    return whistle


async def in_audience(
    session: AsyncSession, *, whistle_id: int, resident: Resident, chat_id: int
) -> bool:
    """Was the whistle delivered to this resident, or to the chat they answer from?"""
    query = select(WhistleDelivery.id).where(
        WhistleDelivery.whistle_id == whistle_id,
        or_(
            col(WhistleDelivery.resident_id) == resident.id, col(WhistleDelivery.chat_id) == chat_id
        ),
    )
    return (await session.exec(query.limit(1))).first() is not None


async def record_answer(
    session: AsyncSession,
    *,
    whistle_id: int,
    resident: Resident,
    option: int,
    chat_id: int,
    now: datetime,
) -> Answered:
    """Record (or change) the resident's button answer."""
    whistle = await open_whistle(session, whistle_id=whistle_id, now=now)
    if not 0 <= option < len(whistle.options):
        raise StaleAction("no such option")
    assert resident.id is not None
    inside = await in_audience(session, whistle_id=whistle_id, resident=resident, chat_id=chat_id)
    existing = await _answer_of(session, whistle_id, resident.id)
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(
                    WhistleAnswer(
                        whistle_id=whistle_id,
                        resident_id=resident.id,
                        option=option,
                        in_audience=inside,
                        building=resident.building,
                        answered_at=now,
                    )
                )
                await session.flush()
            return Answered(whistle, option, None, inside)
        except IntegrityError:  # a second press raced this one: change that answer instead
            existing = await _answer_of(session, whistle_id, resident.id)
            assert existing is not None
    previous = existing.option
    if previous != option:
        existing.option, existing.changed_at = option, now
    # Once inside, always inside (the press may come from a chat the whistle did not reach).
    existing.in_audience = existing.in_audience or inside
    existing.building = resident.building
    session.add(existing)
    await session.flush()
    return Answered(whistle, option, previous, existing.in_audience)


async def _answer_of(
    session: AsyncSession, whistle_id: int, resident_id: int
) -> WhistleAnswer | None:
    query = select(WhistleAnswer).where(
        WhistleAnswer.whistle_id == whistle_id, WhistleAnswer.resident_id == resident_id
    )
    return (await session.exec(query)).first()


def clean_opinion(text: str | None) -> str:
    text = (text or "").strip()
    if not any(ch.isalnum() for ch in text):
        raise InvalidInput("empty")
    if len(text) > OPINION_MAX:
        raise InvalidInput("too_long", limit=OPINION_MAX, length=len(text))
    return text


async def record_opinion(
    session: AsyncSession,
    *,
    whistle_id: int,
    resident: Resident,
    text: str,
    chat_id: int,
    message_id: int,
    now: datetime,
    channel: str = "telegram",
) -> tuple[WhistleOpinion, bool]:
    """Store a written opinion from one message; (opinion, created). The same message again
    returns the stored opinion."""
    query = select(WhistleOpinion).where(
        WhistleOpinion.source_channel == channel,
        WhistleOpinion.source_chat_id == chat_id,
        WhistleOpinion.source_message_id == message_id,
    )
    if (existing := (await session.exec(query)).first()) is not None:
        return existing, False
    whistle = await open_whistle(session, whistle_id=whistle_id, now=now)
    if not whistle.free_text:
        raise InvalidInput("no_opinions")
    assert resident.id is not None
    opinion = WhistleOpinion(
        whistle_id=whistle_id,
        resident_id=resident.id,
        text=clean_opinion(text),
        in_audience=await in_audience(
            session, whistle_id=whistle_id, resident=resident, chat_id=chat_id
        ),
        building=resident.building,
        source_channel=channel,
        source_chat_id=chat_id,
        source_message_id=message_id,
        created_at=now,
    )
    session.add(opinion)
    await session.flush()
    return opinion, True


async def whistle_of_message(
    session: AsyncSession, *, chat_id: int, message_id: int, channel: str = "telegram"
) -> Whistle | None:
    """The whistle whose message (or reminder) this is, as the bot sent it into `chat_id`."""
    carried = or_(
        col(WhistleDelivery.outbox_id) == OutboxMessage.id,
        col(WhistleDelivery.reminder_outbox_id) == OutboxMessage.id,
    )
    query = (
        select(Whistle)
        .join(WhistleDelivery, col(WhistleDelivery.whistle_id) == Whistle.id)
        .join(OutboxMessage, carried)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == str(chat_id),
            OutboxMessage.sent_message_id == message_id,
        )
    )
    return (await session.exec(query.limit(1))).first()


async def opinions(
    session: AsyncSession, *, by: Authority, whistle_id: int, offset: int = 0, limit: int = 10
) -> tuple[list[tuple[WhistleOpinion, Resident]], int]:
    """A page of the whistle's opinions with their authors, for a secretary; (page, total)."""
    if not by.is_secretary:
        raise NotAllowed("only a secretary reads the opinions")
    where = WhistleOpinion.whistle_id == whistle_id
    total = (await session.exec(select(func.count()).where(where))).one()
    query = (
        select(WhistleOpinion, Resident)
        .join(Resident, col(Resident.id) == WhistleOpinion.resident_id)
        .where(where)
        .order_by(col(WhistleOpinion.id))
        .offset(offset)
        .limit(limit)
    )
    return [(o, r) for o, r in (await session.exec(query)).all()], int(total)


async def opinion_to_case(
    session: AsyncSession,
    *,
    by: Authority,
    opinion_id: int,
    today: date,
    category_code: str = categories.FALLBACK_CODE,
) -> tuple[Case, bool]:
    """File the opinion as a case (its author the reporter, source "whistle"); (case, created).

    Pressing twice gives the same case: the opinion is linked, and its message is the case's
    source. The case is routed and follows the normal workflow from here.
    """
    if not by.is_secretary:
        raise NotAllowed("only a secretary files opinions as cases")
    opinion = await session.get(WhistleOpinion, opinion_id)
    if opinion is None:
        raise StaleAction("no such opinion")
    if opinion.case_id is not None:
        case = await session.get(Case, opinion.case_id)
        assert case is not None
        return case, False
    author = await session.get(Resident, opinion.resident_id)
    assert author is not None
    case, created = await open_case(
        session,
        reporter=author,
        category=await categories.category_by_code(session, category_code),
        text=opinion.text,
        source=CASE_SOURCE,
        source_chat_id=opinion.source_chat_id,
        source_message_id=opinion.source_message_id,
        today=today,
    )
    opinion.case_id = case.id
    session.add(opinion)
    await session.flush()
    if created:
        await outbox.enqueue(
            session,
            to=author,
            kind=CASE_NOTICE,
            params={"whistle": opinion.whistle_id, "case": case.id},
            dedup_key=f"{CASE_NOTICE}:{opinion.id}",
        )
    return case, created
