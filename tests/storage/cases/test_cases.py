import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage import cases
from storage.cases import TRANSITIONS, Status, categories
from storage.db import session_scope
from storage.errors import CaseNotFound, InvalidTransition
from storage.models import Case, CaseEvent
from tests.storage.factories import resident


async def _open(session, reporter, message_id=1, text="电梯坏了三天"):
    category = await categories.category_by_code(session, "safety")
    return await cases.open_case(
        session,
        reporter=reporter,
        category=category,
        text=text,
        source="private",
        source_chat_id=reporter.external_id,
        source_message_id=message_id,
    )


async def test_open_case_numbers_and_records_event(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s)
        first, created = await _open(s, wang, 1)
        second, _ = await _open(s, wang, 2)
    assert created and first.id == 1 and second.id == 2
    async with session_scope(engine) as s:
        events = (await s.exec(select(CaseEvent).where(CaseEvent.case_id == 1))).all()
    assert [(e.kind, e.to_status, e.public) for e in events] == [("opened", "new", True)]


async def test_same_source_message_files_once(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s)
        first, created_first = await _open(s, wang, 7)
        again, created_again = await _open(s, wang, 7)
    assert created_first and not created_again and again.id == first.id
    async with session_scope(engine) as s:
        assert len((await s.exec(select(Case))).all()) == 1


async def test_reporter_sees_own_case_and_no_one_elses(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1)
        li = await resident(s, 2)
        case, _ = await _open(s, wang)
        view = await cases.reporter_case(s, number=case.id, viewer=wang)
        assert view.case.id == case.id and view.category.code == "safety"
        with pytest.raises(CaseNotFound):
            await cases.reporter_case(s, number=case.id, viewer=li)
        with pytest.raises(CaseNotFound):
            await cases.reporter_case(s, number=999, viewer=wang)
        with pytest.raises(CaseNotFound):
            await cases.reporter_case(s, number=10**20, viewer=wang)


async def test_state_machine_is_the_only_way(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s)
        case, _ = await _open(s, wang)
        with pytest.raises(InvalidTransition):
            await cases.change_status(s, case=case, to=Status.CLOSED, actor=wang)
        await cases.change_status(s, case=case, to=Status.ACCEPTED, actor=wang, public=False)
        assert case.status == Status.ACCEPTED
        events = (await s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))).all()
        assert [e.to_status for e in events] == ["new", "accepted"]
        view = await cases.reporter_case(s, number=case.id, viewer=wang)
        assert [e.to_status for e in view.events] == ["new"]  # internal events stay internal


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert all(target in Status for targets in TRANSITIONS.values() for target in targets)


async def test_reporter_cases_newest_first(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1)
        li = await resident(s, 2)
        for message_id in range(3):
            await _open(s, wang, message_id)
        await _open(s, li, 99)
        mine = await cases.reporter_cases(s, reporter=wang)
        assert [c.id for c, _ in mine] == [3, 2, 1]
        assert await cases.count_reporter_cases(s, reporter=wang) == 3


def test_what_a_press_may_ask_for_is_read_from_the_one_table() -> None:
    allowed = {action: {s for s in Status if cases.allows(s, action)} for action in cases.Action}
    assert allowed == {
        cases.Action.ACCEPT: {Status.NEW, Status.REOPENED},
        cases.Action.PROGRESS: set(cases.OPEN_STATUSES),
        cases.Action.RESOLVE: set(cases.OPEN_STATUSES),
        cases.Action.NOT_OURS: {Status.NEW, Status.ACCEPTED},
        cases.Action.ANSWER_FIXED: {Status.RESOLVED},
    }
