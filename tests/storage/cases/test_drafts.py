import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage.cases import categories, drafts
from storage.cases.drafts import Step
from storage.db import session_scope
from storage.errors import InvalidInput, StaleAction
from storage.models import Case, ReportDraft
from tests.storage.factories import photo, photo_refs, resident


async def test_a_draft_walks_every_step_and_files_one_case(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s)
        draft = await drafts.start_draft(s, resident=wang, chat_id=wang.external_id)
        safety = await categories.category_by_code(s, "safety")
        draft = await drafts.choose_category(s, draft=draft, category_id=safety.id)
        assert draft.step == Step.DESCRIPTION
        with pytest.raises(InvalidInput):
            await drafts.describe(s, draft=draft, words="🙂")
        assert draft.step == Step.DESCRIPTION  # refused input leaves the step as it was
        draft = await drafts.describe(s, draft=draft, words="楼道灭火器过期了")
        draft = await drafts.add_photo(s, draft=draft, photo=await photo(s, "p1"))
        draft = await drafts.add_photo(s, draft=draft, photo=await photo(s, "p2"))
        draft = await drafts.add_photo(s, draft=draft, photo=await photo(s, "p1"))  # sent twice
        draft = await drafts.skip(s, draft=draft)
        draft = await drafts.locate(s, draft=draft, address="3号楼2单元")
        draft = await drafts.choose_anonymity(s, draft=draft, anonymous=True)
        assert draft.step == Step.CONFIRM
    # a new transaction reads the same draft back: state lives in the database
    async with session_scope(engine) as s:
        wang = await resident(s)
        draft = await drafts.expect(s, resident=wang, draft_id=draft.id, step=Step.CONFIRM)
        assert await photo_refs(s, draft.photos) == ["p1", "p2"]
        case, created = await drafts.file_draft(
            s, resident=wang, draft=draft, chat_id=wang.external_id, message_id=50
        )
    assert created
    async with session_scope(engine) as s:
        stored = (await s.exec(select(Case))).one()
        assert (
            stored.text,
            await photo_refs(s, stored.photos),
            stored.address,
            stored.anonymous,
        ) == (
            "楼道灭火器过期了",
            ["p1", "p2"],
            "3号楼2单元",
            True,
        )
        assert (await s.exec(select(ReportDraft))).first() is None


async def test_stale_or_foreign_draft_ids_are_refused(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1)
        li = await resident(s, 2)
        old = await drafts.start_draft(s, resident=wang, chat_id=1)
        new = await drafts.start_draft(s, resident=wang, chat_id=1)
        assert old.id != new.id
        with pytest.raises(StaleAction):
            await drafts.expect(s, resident=wang, draft_id=old.id, step=Step.CATEGORY)
        with pytest.raises(StaleAction):
            await drafts.expect(s, resident=li, draft_id=new.id, step=Step.CATEGORY)
        with pytest.raises(StaleAction):
            await drafts.expect(s, resident=wang, draft_id=new.id, step=Step.CONFIRM)
        with pytest.raises(StaleAction):  # category is not an optional step
            await drafts.skip(s, draft=new)


async def test_photo_limit_and_bad_location(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s)
        draft = await drafts.start_draft(s, resident=wang, chat_id=1)
        for n in range(drafts.MAX_PHOTOS):
            draft = await drafts.add_photo(s, draft=draft, photo=await photo(s, f"p{n}"))
        with pytest.raises(InvalidInput):
            await drafts.add_photo(s, draft=draft, photo=await photo(s, "one-too-many"))
        with pytest.raises(InvalidInput):
            await drafts.locate(s, draft=draft, latitude=123.0, longitude=500.0)
