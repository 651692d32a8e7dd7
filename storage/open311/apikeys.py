"""Open311 API keys: issued by a secretary from the command line, revoked, and checked.

A key is shown once, when it is created; the database keeps only its SHA-256, so a copy of
the database does not let anyone file cases. Each key files as its own Resident on channel
"open311" (external id = the key's id), so cases from a hotline are told apart from each
other and from Telegram, and no person's profile is involved.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import InvalidInput
from storage.models import Resident, utcnow
from storage.open311.apikey_models import ApiKey
from storage.people import identities

CHANNEL = "open311"
PREFIX = "y311_"
NAME_MAX = 64
KEY_MAX = 100  # anything longer is not one of ours: refused before hashing


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("empty")
    if len(name) > NAME_MAX:
        raise InvalidInput("too_long", limit=NAME_MAX, length=len(name))
    if name.isdigit():
        raise InvalidInput("numeric_name")  # `revoke 3` means the key with id 3
    return name


async def active_key_named(session: AsyncSession, name: str) -> ApiKey | None:
    query = select(ApiKey).where(ApiKey.name == name, col(ApiKey.revoked_at).is_(None))
    return (await session.exec(query)).first()


async def create_key(session: AsyncSession, *, name: str, by: str = "") -> tuple[ApiKey, str]:
    """A new key and its secret (shown once). Names are unique among active keys."""
    name = clean_name(name)
    if await active_key_named(session, name) is not None:
        raise InvalidInput("name_taken", name=name)
    secret = PREFIX + secrets.token_urlsafe(24)
    key = ApiKey(name=name, key_hash=hash_key(secret), created_by=by[:64])
    session.add(key)
    await session.flush()
    assert key.id is not None
    reporter = Resident(channel=CHANNEL, external_id=key.id, name=name)
    session.add(reporter)
    await session.flush()
    await identities.attach(session, resident=reporter, channel=CHANNEL, external_id=str(key.id))
    key.resident_id = reporter.id
    session.add(key)
    await session.flush()
    return key, secret


async def revoke_key(
    session: AsyncSession, *, name_or_id: str, now: datetime | None = None
) -> ApiKey:
    """Revoke the active key with this name (or this id); LookupError if there is none."""
    text = name_or_id.strip()
    key = await session.get(ApiKey, int(text)) if text.isdigit() else None
    if key is None:
        key = await active_key_named(session, " ".join(text.split()))
    if key is None or key.revoked_at is not None:
        raise LookupError(name_or_id)
    key.revoked_at = now or utcnow()
    session.add(key)
    await session.flush()
    return key


async def all_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.exec(select(ApiKey).order_by(col(ApiKey.id)))).all())


async def use_key(
    session: AsyncSession, *, key: str | None, now: datetime | None = None
) -> tuple[ApiKey, int] | None:
    """Check a key for filing and take the next request number; None if it is not valid.

    One UPDATE ... RETURNING both checks and counts, so two instances filing with the same
    key at once get different numbers (the row lock orders them on PostgreSQL).
    """
    if not key or len(key) > KEY_MAX:
        return None
    statement = (
        update(ApiKey)
        .where(col(ApiKey.key_hash) == hash_key(key), col(ApiKey.revoked_at).is_(None))
        .values(requests_filed=col(ApiKey.requests_filed) + 1, last_used_at=now or utcnow())
        .returning(col(ApiKey.id), col(ApiKey.requests_filed))
    )
    row = (await session.exec(statement)).first()
    if row is None:
        return None
    found = await session.get(ApiKey, row[0], populate_existing=True)
    assert found is not None
    return found, int(row[1])
