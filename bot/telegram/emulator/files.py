"""Stored files: bytes behind file_id / file_unique_id / file_path, and media objects."""

from __future__ import annotations

import itertools
import logging
import mimetypes
import secrets
import struct
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# kind -> (file_id prefix like Telegram's, folder of file_path, default extension)
_KINDS: dict[str, tuple[str, str, str]] = {
    "photo": ("AgACAgIAAxkBAAI", "photos", ".jpg"),
    "document": ("BQACAgIAAxkBAAI", "documents", ""),
    "audio": ("CQACAgIAAxkBAAI", "music", ".mp3"),
    "video": ("BAACAgIAAxkBAAI", "videos", ".mp4"),
    "voice": ("AwACAgIAAxkBAAI", "voice", ".oga"),
    "animation": ("CgACAgIAAxkBAAI", "animations", ".mp4"),
    "sticker": ("CAACAgIAAxkBAAI", "stickers", ".webp"),
    "video_note": ("DQACAgIAAxkBAAI", "video_notes", ".mp4"),
}

# Kinds whose files keep the sender's file name (photos, voices, stickers... get Telegram's).
_NAMED_KINDS = frozenset({"document", "audio", "video", "animation"})


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def base(self) -> dict[str, Any]:
        """file_id, file_unique_id and file_size: the fields every media object has."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG, if ``data`` is one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                return None
            marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + length
    return None


class FileStore:
    """Every file the emulator knows, by file_id and by file_path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)
        self._next = 1

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        prefix, folder, extension = _KINDS.get(kind, _KINDS["document"])
        number = next(self._counter)
        self._next = number + 1
        if file_name and "." in file_name and kind in _NAMED_KINDS:
            extension = "." + file_name.rsplit(".", 1)[1]
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = StoredFile(
            file_id=f"{prefix}{number:05d}{secrets.token_urlsafe(18)}",
            file_unique_id=f"AQAD{number:05d}{secrets.token_hex(3)}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}{extension}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def all(self) -> list[StoredFile]:
        return list(self._by_id.values())

    def put(self, stored: StoredFile) -> None:
        """Keep a file as it is (a saved world coming back); numbering continues after it."""
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        number = stored.file_path.rsplit("_", 1)[-1].split(".", 1)[0]
        if number.isdigit():
            self._next = max(self._next, int(number) + 1)
            self._counter = itertools.count(self._next)
