"""Residents' profiles (building, unit, phone), subscriptions, and registered groups.

A building is kept in a short canonical form ("3号楼", "3栋", "Building 3" -> "3"; "a座" ->
"A"), so audiences and per-building figures group the same place together. The phone number
is for staff only: whatever the bot posts shows it through `masked_phone`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import InvalidInput, NotAllowed
from storage.models import Group, Resident
from storage.people import identities
from storage.people.roles import Authority
from storage.text import mask_phones

PLACE_MAX = 16  # the columns' width (Resident.building/entrance)
GROUP_BUILDINGS_MAX = 50
_BUILDING_WORDS = re.compile(r"^(?:building|bldg\.?|no\.?|#)\s*|\s*(?:号楼|号栋|栋|幢|座|楼|号)$")
_UNIT_WORDS = re.compile(r"^(?:unit|entrance|no\.?|#)\s*|\s*(?:单元|门|号)$")
_PHONE_DIGITS = re.compile(r"\d")


def _place(text: str | None, words: re.Pattern[str], reason: str) -> str:
    value = unicodedata.normalize("NFKC", (text or "").strip()).lower()
    value = words.sub("", value).strip().upper().replace(" ", "")
    ok = all(unicodedata.category(ch)[0] in "LN" or ch == "-" for ch in value)
    if not value or not ok or len(value) > PLACE_MAX:
        raise InvalidInput(reason, limit=PLACE_MAX)
    return value


def normalise_building(text: str | None) -> str:
    """ "3号楼" -> "3"; InvalidInput("building_format") for anything not a building name."""
    return _place(text, _BUILDING_WORDS, "building_format")


def normalise_unit(text: str | None) -> str:
    """ "2单元" -> "2"; InvalidInput("unit_format")."""
    return _place(text, _UNIT_WORDS, "unit_format")


async def set_home(
    session: AsyncSession, *, resident: Resident, building: str, entrance: str | None = None
) -> Resident:
    """Where the resident lives; a new building without a unit clears the old unit."""
    resident.building = normalise_building(building)
    resident.entrance = normalise_unit(entrance) if entrance else None
    session.add(resident)
    await session.flush()
    return resident


async def set_phone(
    session: AsyncSession,
    *,
    resident: Resident,
    phone: str,
    channel: str,
    owner_external_id: str | None,
) -> Resident:
    """Store a shared contact's number, only if the contact is the sender's own (one of
    their identities on `channel`)."""
    owner = (
        await identities.find(session, channel=channel, external_id=owner_external_id)
        if owner_external_id is not None
        else None
    )
    if owner is None or owner.resident_id != resident.id:
        raise NotAllowed("only one's own contact is accepted")
    digits = "".join(_PHONE_DIGITS.findall(phone or ""))
    if not 5 <= len(digits) <= 20:
        raise InvalidInput("phone_format")
    resident.phone = ("+" if phone.strip().startswith("+") else "") + digits
    session.add(resident)
    await session.flush()
    return resident


def masked_phone(phone: str | None) -> str | None:
    """The number as the bot may show it: 138****5678 (at most the last four digits)."""
    if not phone:
        return None
    masked = mask_phones(phone)
    if masked != phone:
        return masked
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) > 7 else "****" + phone[-2:]


async def subscribe(session: AsyncSession, *, resident: Resident, now: datetime) -> bool:
    """Receive private broadcasts (whistles); False if already subscribed."""
    if resident.subscribed_at is not None:
        return False
    resident.subscribed_at = now
    session.add(resident)
    await session.flush()
    return True


async def unsubscribe(session: AsyncSession, *, resident: Resident) -> bool:
    if resident.subscribed_at is None:
        return False
    resident.subscribed_at = None
    session.add(resident)
    await session.flush()
    return True


async def register_group(
    session: AsyncSession, *, group: Group, by: Authority, buildings: Sequence[str], now: datetime
) -> Group:
    """A secretary registers a community group and the buildings it covers (replacing them)."""
    if not by.is_secretary:
        raise NotAllowed("only a secretary registers groups")
    if len(buildings) > GROUP_BUILDINGS_MAX:
        raise InvalidInput("too_many_buildings", limit=GROUP_BUILDINGS_MAX)
    names = sorted({normalise_building(name) for name in buildings}, key=_building_order)
    if group.registered_at is None:
        group.registered_at = now
    group.registered_by_id = by.resident_id
    group.buildings = names
    session.add(group)
    await session.flush()
    return group


async def unregister_group(session: AsyncSession, *, group: Group, by: Authority) -> bool:
    if not by.is_secretary:
        raise NotAllowed("only a secretary registers groups")
    was = group.registered_at is not None
    group.registered_at, group.registered_by_id, group.buildings = None, None, []
    session.add(group)
    await session.flush()
    return was


async def registered_groups(
    session: AsyncSession, *, ids: Sequence[int] | None = None
) -> list[Group]:
    """Registered groups (only those of `ids`, if given), in id order."""
    query = select(Group).where(col(Group.registered_at).is_not(None))
    if ids is not None:
        query = query.where(col(Group.id).in_(list(ids)))
    return list((await session.exec(query.order_by(col(Group.id)))).all())


async def subscribers(
    session: AsyncSession, *, buildings: Sequence[str] | None = None
) -> list[Resident]:
    """Subscribed residents (living in one of `buildings`, if given), in id order."""
    query = select(Resident).where(col(Resident.subscribed_at).is_not(None))
    if buildings is not None:
        query = query.where(col(Resident.building).in_(list(buildings)))
    return list((await session.exec(query.order_by(col(Resident.id)))).all())


async def known_buildings(session: AsyncSession) -> list[str]:
    """Buildings residents live in or registered groups cover, in a natural order."""
    lived = (await session.exec(select(Resident.building).distinct())).all()
    covered = (
        await session.exec(select(Group.buildings).where(col(Group.registered_at).is_not(None)))
    ).all()
    names = {name for name in lived if name} | {name for names in covered for name in names}
    return sorted(names, key=_building_order)


def _building_order(name: str) -> tuple[int, int, str]:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (0, int(digits), name) if digits and name.isdigit() else (1, 0, name)
