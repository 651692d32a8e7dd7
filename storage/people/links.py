"""Linking identities: one person, several channels (issue 17, item 5).

`/link` on one channel gives a one-time code (link_code); sending it on another channel
(link) attaches that channel's identity to the code's resident. When that identity already is
a resident of its own, that resident is merged into the code's one: every row that names them
(cases reported or assigned, case events, roles and grants made, invitations, duty days,
drafts, pending inputs, whistle answers and opinions, proposals, supports and votes, meeting
items, inspection rounds, a registered group, an Open311 key, link codes, identities) names the
code's resident instead, found from the foreign keys to residents.id, so a table added later
moves too. Where both had a row that may exist once per person (a report draft, a pending
input, an answer to the same whistle, a vote on the same item, a duty day), the code's
resident's row stays and the other's is dropped. Profile fields the code's resident lacks are
taken from the other; the other resident row is then deleted.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    ForeignKey,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    and_,
    delete,
    exists,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import StorageError
from storage.models import LinkCode, Resident
from storage.people import identities

logger = logging.getLogger(__name__)

CODE_LENGTH = 8
# No 0/O, 1/I/L: the code is read on one screen and typed on another.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VALIDITY = timedelta(minutes=15)
_PROFILE = ("building", "entrance", "phone", "subscribed_at")


class LinkCodeInvalid(StorageError):
    """The code cannot link: base of the three reasons below."""


class LinkCodeUnknown(LinkCodeInvalid):
    """No such code was ever given."""


class LinkCodeUsed(LinkCodeInvalid):
    """The code linked an identity already (or a newer code replaced it)."""


class LinkCodeExpired(LinkCodeInvalid):
    """The code's 15 minutes are over."""


@dataclass(frozen=True)
class Linked:
    """The outcome of a link: the one resident, whom it absorbed, and the rows that moved."""

    resident: Resident
    merged_id: int | None = None
    moved: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows now theirs
    dropped: dict[str, int] = field(default_factory=dict)  # "table" -> duplicates removed


def _hash(code: str) -> str:
    normal = "".join(code.split()).upper()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


async def link_code(session: AsyncSession, *, resident: Resident, now: datetime) -> str:
    """A fresh one-time code for `resident`, valid for 15 minutes; their older codes stop."""
    assert resident.id is not None
    await session.exec(
        update(LinkCode)
        .where(col(LinkCode.resident_id) == resident.id, col(LinkCode.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    session.add(
        LinkCode(
            code_hash=_hash(code), resident_id=resident.id, created_at=now,
            expires_at=now + VALIDITY,
        )
    )  # fmt: skip
    await session.flush()
    return code


async def _claim(session: AsyncSession, *, code: str, now: datetime) -> LinkCode:
    """Use the code once, or raise why not. The conditional UPDATE is the claim: of two
    identities racing for one code, the second matches no row."""
    digest = _hash(code)
    claim = (
        update(LinkCode)
        .where(
            col(LinkCode.code_hash) == digest,
            col(LinkCode.used_at).is_(None),
            col(LinkCode.expires_at) > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    claimed = (await session.exec(claim)).rowcount == 1
    query = select(LinkCode).where(LinkCode.code_hash == digest)
    found = (await session.exec(query.execution_options(populate_existing=True))).first()
    if claimed and found is not None:
        return found
    if found is None:
        raise LinkCodeUnknown(code[: CODE_LENGTH * 2])
    if found.used_at is not None:
        raise LinkCodeUsed(str(found.id))
    raise LinkCodeExpired(str(found.id))


async def link(
    session: AsyncSession, *, code: str, channel: str, external_id: str, now: datetime
) -> Linked:
    """Attach (channel, external_id) to the code's resident, merging whoever held it."""
    claimed = await _claim(session, code=code, now=now)
    keeper = await session.get(Resident, claimed.resident_id)
    assert keeper is not None and keeper.id is not None
    holder = await identities.find(session, channel=channel, external_id=external_id)
    if holder is None:
        await identities.attach(
            session, resident=keeper, channel=channel, external_id=external_id, now=now
        )
        logger.info("resident %d linked an identity on %s", keeper.id, channel)
        return Linked(resident=keeper)
    if holder.resident_id == keeper.id:
        return Linked(resident=keeper)
    other = await session.get(Resident, holder.resident_id)
    assert other is not None and other.id is not None
    return await _merge(session, keeper=keeper, other=other)


async def _merge(session: AsyncSession, *, keeper: Resident, other: Resident) -> Linked:
    assert keeper.id is not None and other.id is not None
    moved: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for table, column in _references():
        for unique in _unique_sets(table, column):
            gone = await _drop_duplicates(session, table, column, unique, keeper.id, other.id)
            if gone:
                dropped[table.name] = dropped.get(table.name, 0) + gone
        result = await session.exec(
            update(table).where(column == other.id).values({column.name: keeper.id})
        )
        if result.rowcount:
            moved[f"{table.name}.{column.name}"] = int(result.rowcount)
    _follow_in_memory(session, moved, other.id, keeper.id)
    for name in _PROFILE:
        if getattr(keeper, name) is None and getattr(other, name) is not None:
            setattr(keeper, name, getattr(other, name))
    keeper.created_at = min(keeper.created_at, other.created_at)
    keeper.last_seen_at = max(keeper.last_seen_at, other.last_seen_at)
    session.add(keeper)
    await session.delete(other)
    await session.flush()
    logger.info("resident %d merged into resident %d: %s", other.id, keeper.id, moved)
    return Linked(resident=keeper, merged_id=other.id, moved=moved, dropped=dropped)


def _follow_in_memory(
    session: AsyncSession, moved: dict[str, int], other_id: int, keeper_id: int
) -> None:
    """Rows this session already holds see the move too, as if read again."""
    columns = {tuple(name.split(".")) for name in moved}
    for row in list(session.identity_map.values()):
        table = getattr(type(row), "__tablename__", None)
        for moved_table, name in columns:
            if table == moved_table and getattr(row, name, None) == other_id:
                set_committed_value(row, name, keeper_id)


def _references() -> list[tuple[Table, Column[int]]]:
    """Every (table, column) with a foreign key to residents.id, in a stable order."""
    residents = Resident.__table__  # type: ignore[attr-defined]
    found: list[tuple[Table, Column[int]]] = []
    for table in SQLModel.metadata.sorted_tables:
        for key in sorted(table.foreign_keys, key=lambda k: str(k.parent.name)):
            if _points_at(key, residents):
                found.append((table, key.parent))
    return found


def _points_at(key: ForeignKey, residents: Table) -> bool:
    return bool(key.column.table is residents and key.column.name == "id")


def _unique_sets(table: Table, column: Column[int]) -> list[list[Column[int]]]:
    """The other columns of each unique key that holds `column` (a key of `column` alone
    gives an empty list: one row per person)."""
    unique = (UniqueConstraint, PrimaryKeyConstraint)
    keys = [list(c.columns) for c in table.constraints if isinstance(c, unique)]
    keys += [list(index.columns) for index in table.indexes if index.unique]
    return [[c for c in key if c is not column] for key in keys if column in key]


async def _drop_duplicates(
    session: AsyncSession,
    table: Table,
    column: Column[int],
    others: list[Column[int]],
    keeper_id: int,
    other_id: int,
) -> int:
    """Delete `other_id`'s rows that would collide with `keeper_id`'s once moved."""
    twin = table.alias("twin")
    same = [twin.c[c.name] == c for c in others]
    clash = exists().where(and_(twin.c[column.name] == keeper_id, *same))
    result = await session.exec(delete(table).where(column == other_id, clash))
    return int(result.rowcount)
