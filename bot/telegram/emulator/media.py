"""Media objects (PhotoSize list, Document, Voice, Sticker...) built from stored files."""

from __future__ import annotations

import logging
from typing import Any

from .files import FileStore, StoredFile, image_size

logger = logging.getLogger(__name__)

MEDIA_KINDS = ("photo", "document", "audio", "video", "voice", "animation", "sticker", "video_note")
_DEFAULT_MIME = {
    "audio": "audio/mpeg",
    "video": "video/mp4",
    "voice": "audio/ogg",
    "animation": "video/mp4",
}


def photo_sizes(store: FileStore, stored: StoredFile) -> list[dict[str, Any]]:
    """A thumbnail-sized and a full-sized PhotoSize, smallest first, as Telegram sends."""
    width, height = image_size(stored.data) or (1280, 960)
    scale = min(1.0, 320 / max(width, height, 1))
    small = store.add(stored.data, "photo")
    return [
        {
            **small.base(),
            "width": max(1, round(width * scale)),
            "height": max(1, round(height * scale)),
        },
        {**stored.base(), "width": width, "height": height},
    ]


def media_object(
    store: FileStore,
    kind: str,
    stored: StoredFile,
    *,
    duration: int | None = None,
    emoji: str | None = None,
    file_name: str | None = None,
) -> Any:
    """The value of ``message[kind]`` for a message carrying ``stored``."""
    if kind == "photo":
        return photo_sizes(store, stored)
    obj: dict[str, Any] = stored.base()
    if kind in ("document", "audio", "video", "animation"):
        name = file_name or stored.file_name
        if name:
            obj["file_name"] = name
    if kind != "sticker" and kind != "video_note":
        mime = stored.mime_type or _DEFAULT_MIME.get(kind)
        if mime:
            obj["mime_type"] = mime
    if kind in ("audio", "video", "voice", "animation", "video_note"):
        obj["duration"] = duration if duration is not None else 3
    if kind in ("video", "animation"):
        obj.update({"width": 640, "height": 480})
    if kind == "video_note":
        obj["length"] = 240
    if kind == "sticker":
        obj.update(
            {
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                "emoji": emoji or "🙂",
            }
        )
    return obj


def file_of(media: Any) -> str | None:
    """The file_id of a message's media value (the largest size of a photo)."""
    if isinstance(media, list) and media:
        return str(media[-1]["file_id"])
    if isinstance(media, dict) and "file_id" in media:
        return str(media["file_id"])
    return None
