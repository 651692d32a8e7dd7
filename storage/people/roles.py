"""Roles: who may do what. Checked on the server for every command and every button."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import NotAllowed
from storage.models import Resident, RoleGrant, utcnow
from storage.people import identities


class Role(StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"
    MEDIATOR = "mediator"
    INSPECTOR = "inspector"
    SECRETARY = "secretary"


GRANTABLE = (Role.STAFF, Role.MEDIATOR, Role.INSPECTOR, Role.SECRETARY)
NEEDS_UNIT = frozenset({Role.STAFF})


@dataclass(frozen=True)
class Authority:
    """What one person may do: their roles and the units they work in."""

    resident_id: int
    roles: frozenset[Role]
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    def require(self, *roles: Role) -> None:
        if not self.has(*roles):
            raise NotAllowed(f"needs one of {', '.join(roles)}")

    @property
    def is_secretary(self) -> bool:
        return Role.SECRETARY in self.roles

    @property
    def is_handler(self) -> bool:
        """Staff, mediators and inspectors act on the cases routed to them."""
        return self.has(Role.STAFF, Role.MEDIATOR, Role.INSPECTOR)


async def active_grants(session: AsyncSession, *, resident_id: int) -> list[RoleGrant]:
    query = select(RoleGrant).where(
        RoleGrant.resident_id == resident_id, col(RoleGrant.revoked_at).is_(None)
    )
    return list((await session.exec(query)).all())


async def authority(
    session: AsyncSession, *, resident: Resident, admin_ids: frozenset[int]
) -> Authority:
    """Roles from the database, plus secretary for the ids in YISHI_ADMINS."""
    assert resident.id is not None
    grants = await active_grants(session, resident_id=resident.id)
    roles = {Role.RESIDENT, *(Role(g.role) for g in grants)}
    if await identities.is_admin(session, resident=resident, admin_ids=admin_ids):
        roles.add(Role.SECRETARY)
    units = frozenset(g.unit_id for g in grants if g.unit_id is not None)
    return Authority(resident_id=resident.id, roles=frozenset(roles), unit_ids=units)


async def grant(
    session: AsyncSession,
    *,
    resident: Resident,
    role: Role,
    unit_id: int | None = None,
    by: Resident | None = None,
) -> RoleGrant:
    """Give a role (idempotent: an identical active grant is returned as it is)."""
    if role not in GRANTABLE:
        raise NotAllowed(f"{role} is not granted")
    if role in NEEDS_UNIT and unit_id is None:
        raise NotAllowed(f"{role} needs a unit")
    assert resident.id is not None
    for existing in await active_grants(session, resident_id=resident.id):
        if existing.role == role and existing.unit_id == unit_id:
            return existing
    row = RoleGrant(
        resident_id=resident.id,
        role=role,
        unit_id=unit_id,
        granted_by_id=by.id if by else None,
    )
    session.add(row)
    await session.flush()
    return row


async def revoke(
    session: AsyncSession, *, resident: Resident, role: Role, by: Resident | None = None
) -> int:
    """End every active grant of `role`; returns how many ended."""
    assert resident.id is not None
    ended = 0
    for existing in await active_grants(session, resident_id=resident.id):
        if existing.role == role:
            existing.revoked_at = utcnow()
            existing.revoked_by_id = by.id if by else None
            session.add(existing)
            ended += 1
    await session.flush()
    return ended


async def holders(
    session: AsyncSession, *, role: Role, unit_id: int | None = None
) -> list[Resident]:
    """Everyone who holds a role now (in a unit, if given)."""
    query = (
        select(Resident)
        .join(RoleGrant, col(RoleGrant.resident_id) == Resident.id)
        .where(RoleGrant.role == role, col(RoleGrant.revoked_at).is_(None))
        .distinct()
        .order_by(col(Resident.id))
    )
    if unit_id is not None:
        query = query.where(RoleGrant.unit_id == unit_id)
    return list((await session.exec(query)).all())
