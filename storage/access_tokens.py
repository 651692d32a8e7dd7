"""Access tokens of outside APIs (WeCom's gettoken), kept where every instance finds them.

WeCom hands out one access_token per corp and secret, valid for 7,200 s, and asks that it be
cached rather than fetched per call (gettoken itself is rate-limited). Several instances share
one: the row is keyed by the corp id and a hash of the secret (never the secret itself), so a
new secret is a new row and the old token is left to expire.

Fetching a new one happens under `lock_token`: on PostgreSQL a transaction-level advisory lock
on the row's key, so a second instance waits for the first one's commit and then reads its
token instead of fetching again; on SQLite the writer lock every transaction takes (BEGIN
IMMEDIATE, storage/db.py) already serialises them. The caller holds the transaction over the
fetch, which is one short HTTP call every two hours.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.columns import UTCDateTime


class AccessToken(SQLModel, table=True):
    __tablename__ = "access_tokens"
    __table_args__ = (UniqueConstraint("corp_id", "credential"),)

    id: int | None = Field(default=None, primary_key=True)
    corp_id: str = Field(max_length=64)
    credential: str = Field(max_length=64)  # sha256 hex of the secret the token was got with
    token: str = Field(max_length=512)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    fetched_at: datetime = Field(sa_type=UTCDateTime)


def credential_of(secret: str) -> str:
    """What is stored in place of a secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _lock_key(corp_id: str, credential: str) -> int:
    """A signed 64-bit advisory-lock key for one row (PostgreSQL's bigint)."""
    digest = hashlib.blake2b(f"access_token:{corp_id}:{credential}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


async def read_token(session: AsyncSession, *, corp_id: str, credential: str) -> AccessToken | None:
    """The stored token for (corp, secret), valid or not, or None."""
    statement = select(AccessToken).where(
        col(AccessToken.corp_id) == corp_id, col(AccessToken.credential) == credential
    )
    return (await session.exec(statement)).first()


async def lock_token(session: AsyncSession, *, corp_id: str, credential: str) -> AccessToken | None:
    """Take the row's lock for this transaction, then read it: what another instance stored
    while this one waited is seen here."""
    if session.get_bind().dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(_lock_key(corp_id, credential))))
    return await read_token(session, corp_id=corp_id, credential=credential)


async def keep_token(
    session: AsyncSession,
    *,
    corp_id: str,
    credential: str,
    token: str,
    expires_at: datetime,
    fetched_at: datetime,
) -> AccessToken:
    """Store a freshly fetched token in place of the old one (call under `lock_token`)."""
    row = await read_token(session, corp_id=corp_id, credential=credential)
    if row is None:
        row = AccessToken(
            corp_id=corp_id,
            credential=credential,
            token=token,
            expires_at=expires_at,
            fetched_at=fetched_at,
        )
    else:
        row.token, row.expires_at, row.fetched_at = token, expires_at, fetched_at
    session.add(row)
    await session.flush()
    return row
