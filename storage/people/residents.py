"""Residents and groups: who is writing to the bot, in which language."""

from __future__ import annotations

import unicodedata

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Group, Resident, utcnow
from storage.people import identities

LANGUAGES = ("zh", "en")
# Characters that show nothing although Unicode calls them letters: people pick them (U+3164
# HANGUL FILLER above all) for a name that looks empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
NAME_LENGTH = 200


def language_from_code(code: str | None, default: str) -> str:
    """Telegram's language_code (zh-hans, en-US, ...) to one we speak."""
    base = (code or "").lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else default


def clean_name(name: str | None) -> str:
    """The name with its spaces tidied; "" when nothing in it would show."""
    text = " ".join((name or "").split())
    shows = any(
        ch not in _BLANK_LETTERS and unicodedata.category(ch)[0] not in "CZM" for ch in text
    )
    return text if shows else ""


def stand_in_number(external_id: str) -> str:
    """The last four characters of an id (digits, for Telegram's), for the stand-in name of
    someone who has none."""
    tail = external_id.lstrip("-")[-4:]
    return tail.rjust(4, "0") if tail.isdigit() else tail


def _first_number(external_id: str) -> int | None:
    # Resident.external_id keeps the first identity's id as before 0011, where it is a number.
    try:
        return int(external_id)
    except ValueError:
        return None


async def touch_resident(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    name: str | None,
    username: str | None,
    language_code: str | None,
    default_language: str,
    unnamed: str = "",
) -> Resident:
    """The resident behind a message, registered on first contact, with a fresh name.

    Every resident has a name to show: a channel that sends none (or only spaces) leaves the
    username, else `unnamed` (the caller's translated "Resident 3456"), else the id's last
    four digits."""
    shown = clean_name(name) or clean_name(username) or unnamed or stand_in_number(external_id)
    shown = shown[:NAME_LENGTH]
    resident = await identities.find_resident(session, channel=channel, external_id=external_id)
    now = utcnow()
    if resident is None:
        resident = Resident(
            channel=channel,
            external_id=_first_number(external_id),
            name=shown,
            username=username,
            language=language_from_code(language_code, default_language),
            created_at=now,
            last_seen_at=now,
        )
        session.add(resident)
        await session.flush()
        await identities.attach(
            session, resident=resident, channel=channel, external_id=external_id, now=now
        )
        return resident
    resident.name = shown
    resident.username = username
    resident.last_seen_at = now
    session.add(resident)
    await session.flush()
    return resident


async def heard_from(session: AsyncSession, *, resident: Resident) -> None:
    """They wrote to us, so they unblocked the bot: reachable again if marked unreachable."""
    if resident.unreachable_at is not None:
        resident.unreachable_at = None
        session.add(resident)


async def get_resident(session: AsyncSession, *, resident_id: int) -> Resident | None:
    return await session.get(Resident, resident_id)


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
