"""Files the project keeps (storage/media.py) on Telegram: a photo Telegram knows goes by its
file id; one kept only as bytes (a WeChat photo, downloaded into the store) is uploaded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from telegram import Bot, Update

from bot.telegram.adapter import TelegramChannel
from bot.telegram.emulator import Emulator
from bot.telegram.sender import Sender
from handlers.conversation import Media, Reply
from storage import media, outbox
from storage.db import session_scope
from storage.models import OutboxMessage
from storage.outbox import Status
from storage.people.roles import Role, grant
from tests.harness import WANG, ZHAO, make_emulator
from tests.storage.factories import resident

FAST: dict[str, Any] = {"overall_per_second": 1000, "per_private_chat_per_second": 1000}
WECHAT_PHOTO = b"\xff\xd8\xff\xe0<a photo a WeChat resident sent, downloaded>"


@pytest.fixture
def emu() -> Emulator:
    return make_emulator()


@pytest.fixture
async def tg(emu: Emulator) -> AsyncIterator[Bot]:
    async with emu.bot() as bot:
        yield bot


async def _resolved_with(engine: AsyncEngine, photo: int, to: int = ZHAO) -> int:
    """The case-update notice a reporter gets when their case is resolved with `photo`; here
    the reporter is an inspector (staff) whose hazard a unit resolved."""
    async with session_scope(engine) as s:
        inspector = await resident(s, to)
        await grant(s, resident=inspector, role=Role.INSPECTOR)
        params = {
            "case": 27,
            "status": "resolved",
            "event": "status",
            "note": "已清理",
            "photo": photo,
        }
        row = await outbox.enqueue(
            s, to=inspector, kind="case_update", params=params, dedup_key=f"resolved:{photo}"
        )
        assert row
    return photo


async def _drain(sender: Sender, engine: AsyncEngine) -> None:
    for _ in range(50):
        if Status.PENDING not in await _statuses(engine):
            return
        await sender.drain_once()
        await asyncio.sleep(0)
    raise AssertionError("the outbox did not drain")


async def _statuses(engine: AsyncEngine) -> list[str]:
    async with session_scope(engine) as s:
        rows = await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        return [row.status for row in rows]


async def test_a_photo_kept_only_as_bytes_reaches_a_telegram_staff_member_as_a_photo(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    async with session_scope(engine) as s:
        downloaded = await media.record_media(s, channel="wecom", ref="MEDIA_ID_3_DAYS")
        await media.store_content(
            s, media=downloaded, content=WECHAT_PHOTO, content_type="image/jpeg"
        )
        assert downloaded.id is not None
    await _resolved_with(engine, downloaded.id)

    await _drain(Sender(tg, engine, **FAST), engine)

    [shown] = emu.bot_messages(ZHAO)
    assert shown["photo"] and "已清理" in shown["caption"] and "#27" in shown["caption"]
    assert emu.file_bytes(shown["photo"][-1]["file_id"]) == WECHAT_PHOTO
    assert await _statuses(engine) == [Status.SENT]


async def test_a_photo_telegram_knows_is_sent_by_its_file_id(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    sent = emu.send_photo(WANG, data=b"<after>")  # the unit's staff member's photo
    largest = sent["photo"][-1]
    async with session_scope(engine) as s:
        kept = await media.record_media(
            s, channel="telegram", ref=largest["file_id"], unique=largest["file_unique_id"]
        )
        assert kept.id is not None
    await _resolved_with(engine, kept.id)

    await _drain(Sender(tg, engine, **FAST), engine)

    [shown] = emu.bot_messages(ZHAO)
    assert shown["photo"][-1]["file_id"] == largest["file_id"]  # the same file, not a copy
    assert [call["photo"] for call in emu.calls_of("sendPhoto")] == [largest["file_id"]]


async def test_a_notice_whose_photo_is_not_kept_is_given_up_at_once(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    async with session_scope(engine) as s:
        neither = await media.keep_content(s, channel="yishi", content=b"")
        neither.content = None  # a record with no ref Telegram can use and nothing to upload
        s.add(neither)
        assert neither.id is not None
    await _resolved_with(engine, neither.id)
    await _resolved_with(engine, 999_999, to=WANG)  # no such record

    await _drain(Sender(tg, engine, **FAST), engine)

    assert emu.calls_of("sendPhoto") == []
    assert await _statuses(engine) == [Status.FAILED, Status.FAILED]


async def test_a_direct_reply_shows_a_kept_photo_through_the_adapter(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    async with session_scope(engine) as s:
        downloaded = await media.keep_content(
            s, channel="wecom", content=WECHAT_PHOTO, content_type="image/jpeg"
        )
        assert downloaded.id is not None
    written = emu.send_text(WANG, "/case 27")
    update = Update.de_json(json.loads(json.dumps({"update_id": 1, "message": written})), tg)
    assert update is not None
    channel = TelegramChannel(update, tg, engine)

    await channel.send(Reply("案件 #27 的照片", photo=Media(stored=downloaded.id)))

    [shown] = emu.bot_messages(WANG)
    assert shown["caption"] == "案件 #27 的照片"
    assert emu.file_bytes(shown["photo"][-1]["file_id"]) == WECHAT_PHOTO
