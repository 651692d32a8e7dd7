"""The reporter's rating: one per case, the first counts, even when two presses race."""

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage.cases import Status, categories, change_status, feedback, open_case
from storage.db import session_scope
from storage.errors import InvalidTransition
from storage.models import Case, CaseEvent
from tests.storage.factories import resident


async def _closed_case(engine: AsyncEngine) -> int:
    """Wang's case, accepted, resolved and confirmed fixed: ready for a rating."""
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        category = await categories.category_by_code(s, "safety")
        case, _ = await open_case(
            s,
            reporter=wang,
            category=category,
            text="楼道灯坏了",
            source="private",
            source_chat_id=1001,
            source_message_id=1,
        )
        for status in (Status.ACCEPTED, Status.RESOLVED, Status.CLOSED):
            await change_status(s, case=case, to=status, actor=wang)
        assert case.id is not None
        return case.id


async def _rate(engine: AsyncEngine, number: int, stars: int, hold: float = 0.0) -> int | None:
    """Rate in a transaction of its own; None if it counted, else the stars that stand."""
    try:
        async with session_scope(engine) as s:
            wang = await resident(s, 1001)
            case = await s.get(Case, number)
            assert case is not None
            await feedback.rate(s, case=case, resident=wang, stars=stars)
            await asyncio.sleep(hold)  # keep the transaction open while the other one tries
    except feedback.AlreadyRated as refused:
        return refused.stars
    return None


async def _ratings(engine: AsyncEngine, number: int) -> tuple[int | None, list[str]]:
    async with session_scope(engine) as s:
        case = await s.get(Case, number)
        query = select(CaseEvent.note).where(CaseEvent.case_id == number, CaseEvent.kind == "rated")
        notes = list((await s.exec(query)).all())
    assert case is not None
    return case.satisfaction, notes


async def test_the_first_rating_counts_and_a_later_one_is_refused(engine: AsyncEngine) -> None:
    number = await _closed_case(engine)
    assert await _rate(engine, number, 5) is None
    assert await _rate(engine, number, 1) == 5
    assert await _ratings(engine, number) == (5, ["5"])


async def test_two_racing_ratings_count_once(engine: AsyncEngine) -> None:
    number = await _closed_case(engine)
    results = await asyncio.gather(_rate(engine, number, 5, 0.2), _rate(engine, number, 1, 0.2))
    assert results in ([None, 5], [1, None])  # whichever came first counts; the other sees it
    winner = 5 if results[0] is None else 1
    assert await _ratings(engine, number) == (winner, [str(winner)])


@pytest.mark.parametrize("stars", [0, 6])
async def test_stars_are_one_to_five(engine: AsyncEngine, stars: int) -> None:
    number = await _closed_case(engine)
    with pytest.raises(InvalidTransition):
        await _rate(engine, number, stars)
    assert await _ratings(engine, number) == (None, [])
