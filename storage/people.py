"""Residents and groups: who is writing to the bot, in which language."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Group, Resident, utcnow

LANGUAGES = ("zh", "en")


def language_from_code(code: str | None, default: str) -> str:
    """Telegram's language_code (zh-hans, en-US, ...) to one we speak."""
    base = (code or "").lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else default


async def touch_resident(
    session: AsyncSession,
    *,
    channel: str,
    external_id: int,
    name: str,
    username: str | None,
    language_code: str | None,
    default_language: str,
) -> Resident:
    """The resident behind a message, registered on first contact, with a fresh name."""
    resident = await find_resident(session, channel=channel, external_id=external_id)
    now = utcnow()
    if resident is None:
        resident = Resident(
            channel=channel,
            external_id=external_id,
            name=name[:200],
            username=username,
            language=language_from_code(language_code, default_language),
            created_at=now,
            last_seen_at=now,
        )
    else:
        resident.name = name[:200]
        resident.username = username
        resident.last_seen_at = now
    session.add(resident)
    await session.flush()
    return resident


async def find_resident(
    session: AsyncSession, *, channel: str, external_id: int
) -> Resident | None:
    query = select(Resident).where(Resident.channel == channel, Resident.external_id == external_id)
    return (await session.exec(query)).first()


async def set_language(session: AsyncSession, *, resident: Resident, language: str) -> Resident:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    resident.language = language
    session.add(resident)
    await session.flush()
    return resident


async def touch_group(
    session: AsyncSession, *, channel: str, external_id: int, title: str
) -> Group:
    query = select(Group).where(Group.channel == channel, Group.external_id == external_id)
    group = (await session.exec(query)).first()
    if group is None:
        group = Group(channel=channel, external_id=external_id, title=title[:255])
    else:
        group.title = title[:255]
    session.add(group)
    await session.flush()
    return group
