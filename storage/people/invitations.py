"""Onboarding office staff: one-time invitation links, the staff directory, finding a person."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import InvalidInput, StorageError
from storage.models import Identity, Invitation, Resident, RoleGrant, Unit, utcnow
from storage.people import identities, roles
from storage.people.roles import GRANTABLE, NEEDS_UNIT, Role
from storage.people.units import MEDIATION, unit_by_code

logger = logging.getLogger(__name__)

# 18 random bytes -> 24 URL-safe characters: fits the 32-character column and, with the
# "inv_" prefix, Telegram's 64-character start payload (A-Z a-z 0-9 _ -).
CODE_BYTES = 18
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
HANDLE = re.compile(r"^(?:@([A-Za-z0-9_]{3,32})|(\d{1,15}))$")
DEFAULT_VALIDITY = timedelta(days=7)


class InvitationInvalid(StorageError):
    """The code is unknown, already used or expired (the three look the same on purpose)."""


@dataclass(frozen=True)
class StaffEntry:
    resident: Resident
    role: Role
    unit: Unit | None


async def create_invitation(
    session: AsyncSession,
    *,
    role: Role,
    unit: Unit | None,
    by: Resident | None,
    valid_for: timedelta = DEFAULT_VALIDITY,
) -> Invitation:
    """A fresh one-time code granting `role` (in `unit`); mediators always join mediation."""
    if role not in GRANTABLE:
        raise InvalidInput("role", role=role)
    if role in NEEDS_UNIT and unit is None:
        raise InvalidInput("needs_unit", role=role)
    if role == Role.MEDIATOR:
        if unit is not None and unit.code != MEDIATION:
            raise InvalidInput("mediation_only", role=role)
        unit = unit or await unit_by_code(session, MEDIATION)
        if unit is None:
            raise InvalidInput("no_mediation_unit", role=role)
    if role == Role.SECRETARY and unit is not None:
        raise InvalidInput("no_unit", role=role)  # secretaries serve the whole office
    if valid_for <= timedelta(0):
        raise InvalidInput("validity")
    now = utcnow()
    invitation = Invitation(
        code=secrets.token_urlsafe(CODE_BYTES),
        role=role,
        unit_id=unit.id if unit else None,
        created_by_id=by.id if by else None,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invitation)
    await session.flush()
    logger.info("invitation %s for %s created by %s", invitation.id, role, invitation.created_by_id)
    return invitation


async def redeem(session: AsyncSession, *, code: str, resident: Resident) -> RoleGrant:
    """Use a code once: grants its role, or InvitationInvalid and nothing changes."""
    if not CODE.match(code):
        raise InvitationInvalid(code[:40])
    now = utcnow()
    # A conditional UPDATE is the claim: of two residents racing for one code, the second
    # waits on the row lock (or SQLite's writer lock), then matches no row.
    claim = (
        update(Invitation)
        .where(
            col(Invitation.code) == code,
            col(Invitation.used_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .values(used_at=now, used_by_id=resident.id)
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(claim)
    if result.rowcount != 1:
        raise InvitationInvalid(code)
    query = select(Invitation).where(Invitation.code == code)
    invitation = (await session.exec(query.execution_options(populate_existing=True))).one()
    by = await session.get(Resident, invitation.created_by_id) if invitation.created_by_id else None
    granted = await roles.grant(
        session, resident=resident, role=Role(invitation.role), unit_id=invitation.unit_id, by=by
    )
    logger.info("invitation %s redeemed by resident %s", invitation.id, resident.id)
    return granted


async def staff_directory(
    session: AsyncSession, *, admin_ids: frozenset[int] = frozenset()
) -> list[StaffEntry]:
    """Everyone holding a role now, plus the configured secretaries who have written to us."""
    query = (
        select(RoleGrant, Resident, Unit)
        .join(Resident, col(RoleGrant.resident_id) == Resident.id)
        .outerjoin(Unit, col(RoleGrant.unit_id) == Unit.id)
        .where(col(RoleGrant.revoked_at).is_(None))
        .order_by(col(Unit.id), col(RoleGrant.role), col(Resident.id))
    )
    entries = [
        StaffEntry(resident=person, role=Role(grant.role), unit=unit)
        for grant, person, unit in (await session.exec(query)).all()
    ]
    listed = {(e.resident.id, e.role) for e in entries}
    if admin_ids:
        admins = (
            select(Resident)
            .join(Identity, col(Identity.resident_id) == col(Resident.id))
            .where(
                Identity.channel == identities.TELEGRAM,
                col(Identity.external_id).in_([str(admin) for admin in admin_ids]),
            )
        )
        for person in (await session.exec(admins.order_by(col(Resident.id)))).all():
            if (person.id, Role.SECRETARY) not in listed:
                entries.append(StaffEntry(resident=person, role=Role.SECRETARY, unit=None))
    return entries


async def find_person(session: AsyncSession, handle: str) -> Resident | None:
    """A Telegram user id or @username of someone who has written to the bot."""
    match = HANDLE.match(handle.strip())
    if match is None:
        return None
    query = select(Resident).join(Identity, col(Identity.resident_id) == col(Resident.id))
    query = query.where(Identity.channel == identities.TELEGRAM)
    if match[1]:
        query = query.where(func.lower(col(Resident.username)) == match[1].lower())
    else:
        query = query.where(Identity.external_id == str(int(match[2])))
    return (await session.exec(query)).first()
