"""A person's identities: their id on each channel, and where notices to them go.

A resident is found by (channel, id) through this table, never by the columns Resident kept
from before it (migration 0011). Ids are strings: Telegram's ints as decimals, WeCom's userids
as they are. One resident may hold several identities once linked (storage/people/links.py).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Identity, Resident, utcnow

TELEGRAM = "telegram"
EXTERNAL_ID_LENGTH = 128


async def find(session: AsyncSession, *, channel: str, external_id: str) -> Identity | None:
    query = select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    return (await session.exec(query)).first()


async def find_resident(
    session: AsyncSession, *, channel: str, external_id: str
) -> Resident | None:
    """The resident behind an id on a channel; None if it never wrote to us."""
    query = (
        select(Resident)
        .join(Identity, col(Identity.resident_id) == col(Resident.id))
        .where(Identity.channel == channel, Identity.external_id == external_id)
    )
    return (await session.exec(query)).first()


async def attach(
    session: AsyncSession,
    *,
    resident: Resident,
    channel: str,
    external_id: str,
    now: datetime | None = None,
) -> Identity:
    """Give `resident` this identity (which must be nobody's yet)."""
    assert resident.id is not None
    if len(external_id) > EXTERNAL_ID_LENGTH:
        raise ValueError(f"an id on {channel} longer than {EXTERNAL_ID_LENGTH} characters")
    identity = Identity(
        resident_id=resident.id, channel=channel, external_id=external_id,
        created_at=now or utcnow(),
    )  # fmt: skip
    session.add(identity)
    await session.flush()
    return identity


async def of_resident(session: AsyncSession, *, resident_id: int) -> list[Identity]:
    """A resident's identities, the first one first."""
    query = select(Identity).where(Identity.resident_id == resident_id).order_by(col(Identity.id))
    return list((await session.exec(query)).all())


async def resident_ids_at(
    session: AsyncSession, *, channel: str, external_ids: Collection[str]
) -> dict[str, int]:
    """The resident holding each of these ids on `channel` (unknown ids left out)."""
    if not external_ids:
        return {}
    query = select(Identity.external_id, Identity.resident_id).where(
        Identity.channel == channel, col(Identity.external_id).in_(list(set(external_ids)))
    )
    return dict((await session.exec(query)).all())


async def is_admin(
    session: AsyncSession, *, resident: Resident, admin_ids: Collection[int]
) -> bool:
    """Whether one of the resident's Telegram identities is in YISHI_ADMINS (Telegram ids)."""
    if not admin_ids or resident.id is None:
        return False
    query = select(Identity.id).where(
        Identity.resident_id == resident.id,
        Identity.channel == TELEGRAM,
        col(Identity.external_id).in_([str(admin) for admin in admin_ids]),
    )
    return (await session.exec(query)).first() is not None
