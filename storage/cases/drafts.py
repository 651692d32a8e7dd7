"""The guided report: a draft row that moves step by step until it becomes a case."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import text
from storage.cases import categories
from storage.cases.records import open_case
from storage.errors import InvalidInput, StaleAction
from storage.models import Case, ReportDraft, Resident, utcnow

MAX_PHOTOS = 10


class Step(StrEnum):
    CATEGORY = "category"
    DESCRIPTION = "description"
    PHOTOS = "photos"
    LOCATION = "location"
    ANONYMOUS = "anonymous"
    CONFIRM = "confirm"


ORDER = list(Step)
SKIPPABLE = frozenset({Step.PHOTOS, Step.LOCATION})


async def current_draft(session: AsyncSession, *, resident: Resident) -> ReportDraft | None:
    query = select(ReportDraft).where(ReportDraft.resident_id == resident.id)
    return (await session.exec(query)).first()


async def start_draft(session: AsyncSession, *, resident: Resident, chat_id: int) -> ReportDraft:
    """A fresh draft; an unfinished one is replaced (the resident asked to start over)."""
    await discard_draft(session, resident=resident)
    assert resident.id is not None
    draft = ReportDraft(resident_id=resident.id, chat_id=chat_id, step=Step.CATEGORY)
    session.add(draft)
    await session.flush()
    return draft


async def discard_draft(session: AsyncSession, *, resident: Resident) -> bool:
    draft = await current_draft(session, resident=resident)
    if draft is None:
        return False
    await session.delete(draft)
    await session.flush()
    return True


async def expect(
    session: AsyncSession, *, resident: Resident, draft_id: int, step: Step | None
) -> ReportDraft:
    """The resident's draft, if it is the one named (and at the step named); else StaleAction."""
    draft = await current_draft(session, resident=resident)
    if draft is None or draft.id != draft_id or (step is not None and draft.step != step):
        raise StaleAction(step)
    return draft


def _advance(draft: ReportDraft, to: Step) -> ReportDraft:
    draft.step = to
    draft.updated_at = utcnow()
    return draft


async def _save(session: AsyncSession, draft: ReportDraft) -> ReportDraft:
    session.add(draft)
    await session.flush()
    return draft


async def choose_category(
    session: AsyncSession, *, draft: ReportDraft, category_id: int
) -> ReportDraft:
    category = await categories.get_category(session, category_id)
    if category is None or not category.active:
        raise StaleAction("category")
    draft.category_id = category_id
    return await _save(session, _advance(draft, Step.DESCRIPTION))


async def describe(session: AsyncSession, *, draft: ReportDraft, words: str | None) -> ReportDraft:
    draft.text = text.clean_description(words)
    return await _save(session, _advance(draft, Step.PHOTOS))


async def add_photo(session: AsyncSession, *, draft: ReportDraft, photo: int) -> ReportDraft:
    """Attach a photo (a media_files id: storage/media.py); the same photo twice counts once."""
    if len(draft.photos) >= MAX_PHOTOS:
        raise InvalidInput("too_many_photos", limit=MAX_PHOTOS)
    if photo not in draft.photos:
        # Reassign rather than append: the JSON column only notices a new list.
        draft.photos = [*draft.photos, photo]
    draft.updated_at = utcnow()
    return await _save(session, draft)


async def skip(session: AsyncSession, *, draft: ReportDraft) -> ReportDraft:
    """Leave an optional step (photos: also "done")."""
    step = Step(draft.step)
    if step not in SKIPPABLE:
        raise StaleAction(step)
    return await _save(session, _advance(draft, ORDER[ORDER.index(step) + 1]))


async def locate(
    session: AsyncSession,
    *,
    draft: ReportDraft,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str | None = None,
) -> ReportDraft:
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidInput("bad_location")
        draft.latitude, draft.longitude = latitude, longitude
    else:
        draft.address = text.clean_address(address)
    return await _save(session, _advance(draft, Step.ANONYMOUS))


async def choose_anonymity(
    session: AsyncSession, *, draft: ReportDraft, anonymous: bool
) -> ReportDraft:
    draft.anonymous = anonymous
    return await _save(session, _advance(draft, Step.CONFIRM))


async def file_draft(
    session: AsyncSession,
    *,
    resident: Resident,
    draft: ReportDraft,
    chat_id: int,
    message_id: int,
    today: date | None = None,
) -> tuple[Case, bool]:
    """Turn a confirmed draft into a case and drop the draft, in one transaction."""
    if draft.category_id is None or draft.text is None:
        raise StaleAction("confirm")
    category = await categories.get_category(session, draft.category_id)
    if category is None:
        raise StaleAction("confirm")
    case, created = await open_case(
        session,
        reporter=resident,
        category=category,
        text=draft.text,
        source="private",
        source_chat_id=chat_id,
        source_message_id=message_id,
        photos=draft.photos,
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        anonymous=bool(draft.anonymous),
        today=today,
    )
    await session.delete(draft)
    await session.flush()
    return case, created
