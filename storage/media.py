"""The project's own file record: a photo is a `media_files` row, not a channel's file id.

A resident's photo arrives as a channel's ref (Telegram: a file_id, stable for this bot, and the
file_unique_id that is the same whoever sends it); cases, drafts and notices keep the record's
id. A channel that sends it asks `ref_on` for a ref it can use without uploading, else sends
the stored `content`. The bytes are kept when a channel's ref will not last (WeCom's media ids
expire after 3 days) or for media the project makes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.columns import NEVER_REUSE_IDS, _when, possible_id, utcnow

# How long a channel's ref can be sent again; channels not named here keep theirs for good.
REF_LIFETIME = {"wecom": timedelta(days=3) - timedelta(hours=1)}


class MediaFile(SQLModel, table=True):
    __tablename__ = "media_files"
    __table_args__ = (
        # The same file from the same channel is one record: by its unique id where the
        # channel has one (several refs may name one Telegram file), else by its ref.
        UniqueConstraint("channel", "channel_unique"),
        UniqueConstraint("channel", "channel_ref"),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # where it came from
    channel_ref: str | None = Field(default=None, max_length=255)
    channel_unique: str | None = Field(default=None, max_length=128)
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = _when()


async def _find(
    session: AsyncSession, *, channel: str, ref: str, unique: str | None
) -> MediaFile | None:
    statement = select(MediaFile).where(col(MediaFile.channel) == channel)
    if unique is not None:
        statement = statement.where(col(MediaFile.channel_unique) == unique)
    else:
        statement = statement.where(col(MediaFile.channel_ref) == ref)
    return (await session.exec(statement)).first()


async def record_media(
    session: AsyncSession,
    *,
    channel: str,
    ref: str,
    unique: str | None = None,
    content_type: str | None = None,
    size: int | None = None,
) -> MediaFile:
    """The record of a channel's file, made the first time it is seen; the same file again
    (the same unique id, or without one the same ref) is the same record."""
    found = await _find(session, channel=channel, ref=ref, unique=unique)
    if found is None and unique is not None:  # first recorded without its unique id
        found = await _find(session, channel=channel, ref=ref, unique=None)
    if found is not None:
        return found
    media = MediaFile(
        channel=channel,
        channel_ref=ref,
        channel_unique=unique,
        content_type=content_type,
        size=size,
    )
    try:
        async with session.begin_nested():
            session.add(media)
            await session.flush()
    except IntegrityError:
        # Another update recorded the same file a moment ago: that record it is.
        raced = await _find(session, channel=channel, ref=ref, unique=unique)
        if raced is None:
            raise
        return raced
    return media


async def store_content(
    session: AsyncSession, *, media: MediaFile, content: bytes, content_type: str | None = None
) -> MediaFile:
    """Keep the file's bytes in the store (a download, or a file the project made)."""
    media.content = content
    media.size = len(content)
    media.sha256 = hashlib.sha256(content).hexdigest()
    if content_type is not None:
        media.content_type = content_type
    session.add(media)
    await session.flush()
    return media


async def keep_content(
    session: AsyncSession, *, channel: str, content: bytes, content_type: str | None = None
) -> MediaFile:
    """A file that exists only as bytes (made here, or its ref is gone): a new record."""
    media = MediaFile(channel=channel)
    session.add(media)
    return await store_content(session, media=media, content=content, content_type=content_type)


async def get_media(session: AsyncSession, media_id: int) -> MediaFile | None:
    if not possible_id(media_id):
        return None
    return await session.get(MediaFile, media_id)


def ref_on(media: MediaFile, channel: str, *, now: datetime | None = None) -> str | None:
    """The ref that sends this file on `channel` without uploading it, or None (then send
    its content)."""
    if media.channel != channel or media.channel_ref is None:
        return None
    lifetime = REF_LIFETIME.get(channel)
    if lifetime is not None and (now or utcnow()) - media.created_at >= lifetime:
        return None
    return media.channel_ref
