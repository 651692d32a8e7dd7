"""Small builders for storage tests."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import media, people
from storage.models import Resident


async def resident(session: AsyncSession, external_id: int = 1001, lang: str = "zh") -> Resident:
    return await people.touch_resident(
        session,
        channel="telegram",
        external_id=str(external_id),
        name=f"Resident {external_id}",
        username=None,
        language_code=lang,
        default_language="zh",
    )


async def photo(session: AsyncSession, ref: str) -> int:
    """A Telegram photo as the project keeps it: its media id."""
    kept = await media.record_media(session, channel="telegram", ref=ref)
    assert kept.id is not None
    return kept.id


async def photo_refs(session: AsyncSession, media_ids: list[int]) -> list[str | None]:
    """The Telegram file ids of kept photos, in order."""
    found = [await media.get_media(session, media_id) for media_id in media_ids]
    return [media.ref_on(kept, "telegram") if kept else None for kept in found]
