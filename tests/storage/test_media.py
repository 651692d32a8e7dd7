"""The project's own file record (storage/media.py): one record per channel file."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import func, select

from storage import media
from storage.db import session_scope
from storage.media import MediaFile
from storage.models import utcnow


async def _count(engine: AsyncEngine) -> int:
    async with session_scope(engine) as s:
        return (await s.exec(select(func.count()).select_from(MediaFile))).one()


async def test_the_same_channel_file_twice_is_one_record(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        first = await media.record_media(s, channel="telegram", ref="AgAC-1", unique="U1")
    async with session_scope(engine) as s:
        # Telegram may name one file by another file id (another bot, a later message): the
        # unique id says it is the same file.
        again = await media.record_media(s, channel="telegram", ref="AgAC-2", unique="U1")
        same_ref = await media.record_media(s, channel="telegram", ref="AgAC-1", unique="U1")
        other = await media.record_media(s, channel="telegram", ref="AgAC-3", unique="U2")
        elsewhere = await media.record_media(s, channel="wecom", ref="U1")
    assert first.id == again.id == same_ref.id
    assert len({first.id, other.id, elsewhere.id}) == 3
    assert (again.channel, again.channel_ref, again.channel_unique) == ("telegram", "AgAC-1", "U1")
    assert await _count(engine) == 3


async def test_without_a_unique_id_the_ref_names_the_file(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        old = await media.record_media(s, channel="telegram", ref="AgAC-old")  # as 0009 made it
        plain = await media.record_media(s, channel="telegram", ref="AgAC-old")
        # The same file arriving later with its unique id is still the record made before.
        known = await media.record_media(s, channel="telegram", ref="AgAC-old", unique="U9")
    assert old.id == plain.id == known.id
    assert await _count(engine) == 1


async def test_content_is_kept_with_its_size_and_digest(engine: AsyncEngine) -> None:
    photo = b"\xff\xd8\xff<a WeChat photo>"
    async with session_scope(engine) as s:
        downloaded = await media.record_media(s, channel="wecom", ref="MEDIA_ID_1")
        await media.store_content(s, media=downloaded, content=photo, content_type="image/jpeg")
        made = await media.keep_content(s, channel="yishi", content=b"\x89PNG chart")
    async with session_scope(engine) as s:
        assert downloaded.id is not None and made.id is not None
        kept = await media.get_media(s, downloaded.id)
        assert kept is not None
        assert (kept.content, kept.size, kept.content_type) == (photo, len(photo), "image/jpeg")
        assert kept.sha256 == hashlib.sha256(photo).hexdigest()
        chart = await media.get_media(s, made.id)
        assert chart is not None and chart.channel_ref is None and chart.size == 10
        assert await media.get_media(s, 2**31) is None  # no row can have it: not asked


async def test_a_ref_is_offered_only_on_its_own_channel_while_it_lasts(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        telegram = await media.record_media(s, channel="telegram", ref="AgAC-1", unique="U1")
        wecom = await media.record_media(s, channel="wecom", ref="MEDIA_ID_1")
        made = await media.keep_content(s, channel="yishi", content=b"bytes")
    assert media.ref_on(telegram, "telegram") == "AgAC-1"
    assert media.ref_on(telegram, "wecom") is None  # sent there from its content
    assert media.ref_on(wecom, "telegram") is None
    assert media.ref_on(wecom, "wecom") == "MEDIA_ID_1"
    three_days = utcnow() + timedelta(days=3)  # WeCom's media ids expire after 3 days
    assert media.ref_on(wecom, "wecom", now=three_days) is None
    assert media.ref_on(telegram, "telegram", now=utcnow() + timedelta(days=365)) == "AgAC-1"
    assert media.ref_on(made, "yishi") is None
