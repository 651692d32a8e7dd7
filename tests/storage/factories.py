"""Small builders for storage tests."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import people
from storage.models import Resident


async def resident(session: AsyncSession, external_id: int = 1001, lang: str = "zh") -> Resident:
    return await people.touch_resident(
        session,
        channel="telegram",
        external_id=external_id,
        name=f"Resident {external_id}",
        username=None,
        language_code=lang,
        default_language="zh",
    )
