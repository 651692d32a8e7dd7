"""A file the project keeps (storage/media.py), as Telegram is sent it: by the file id Telegram
gave it, or uploaded from the store when it came from elsewhere (a WeChat photo)."""

from __future__ import annotations

import mimetypes

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import InputFile

from bot.telegram import CHANNEL
from storage import media
from storage.db import session_scope


class MissingMedia(LookupError):
    """No such record, or one Telegram can neither be sent by ref nor uploaded."""


async def telegram_file(engine: AsyncEngine, media_id: int, name: str = "") -> str | InputFile:
    """What a send method takes for this file: its Telegram ref, else its bytes."""
    async with session_scope(engine) as session:
        kept = await media.get_media(session, media_id)
    if kept is None:
        raise MissingMedia(f"media {media_id} is not kept")
    ref = media.ref_on(kept, CHANNEL)
    if ref is not None:
        return ref
    if kept.content is None:
        raise MissingMedia(f"media {media_id} has no Telegram ref and no content")
    if not name:
        # Telegram is told the type by the file name's extension.
        extension = mimetypes.guess_extension(kept.content_type or "") or ".jpg"
        name = f"media-{media_id}{extension}"
    return InputFile(kept.content, filename=name)
