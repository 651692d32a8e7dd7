"""Saving an emulated world to JSON and loading it back, so a sandbox keeps its chats.

Kept: users, chats with their messages and reply keyboards, stored files, polls, and the
counters (next message id per chat, next update id, callback queries) so that ids keep growing
across restarts: the bot remembers handled update ids and filed messages in its database, and
a reused id would look like a repeat to it. Not kept: pending updates (the bot confirms them
before it stops), faults, the call log.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import Any

from .files import StoredFile
from .state import ChatRecord, World

logger = logging.getLogger(__name__)

VERSION = 1


def dump_world(world: World) -> dict[str, Any]:
    """Everything worth keeping, as plain JSON values."""
    chats = [
        {
            "chat": record.chat,
            "members": sorted(record.members),
            "admins": sorted(record.admins),
            "creator": record.creator,
            "messages": list(record.messages.values()),
            "next_message_id": record.next_message_id,
            "reply_keyboard": record.reply_keyboard,
        }
        for record in world.chats.values()
    ]
    files = [
        {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "kind": f.kind,
            "data": base64.b64encode(f.data).decode("ascii"),
            "file_path": f.file_path,
            "file_name": f.file_name,
            "mime_type": f.mime_type,
        }
        for f in world.files.all()
    ]
    return {
        "version": VERSION,
        "users": list(world.users.values()),
        "chats": chats,
        "files": files,
        "polls": {poll_id: list(where) for poll_id, where in world.polls.items()},
        "next_update_id": world.updates.next_update_id,
        "callback_query_count": world.callback_query_count,
    }


def load_world(world: World, data: dict[str, Any]) -> None:
    """Put a dumped world back (into a fresh World of the same bot)."""
    if data.get("version") != VERSION:
        raise ValueError(f"unknown snapshot version {data.get('version')!r}")
    for user in data["users"]:
        world.add_user(user)
    for saved in data["chats"]:
        record = ChatRecord(saved["chat"])
        record.members = set(saved["members"])
        record.admins = set(saved["admins"])
        record.creator = saved["creator"]
        record.messages = {int(m["message_id"]): m for m in saved["messages"]}
        record.next_message_id = int(saved["next_message_id"])
        record.reply_keyboard = saved["reply_keyboard"]
        world.chats[record.id] = record
    for saved in data["files"]:
        world.files.put(StoredFile(**{**saved, "data": base64.b64decode(saved["data"])}))
    world.polls = {poll_id: (int(c), int(m)) for poll_id, (c, m) in data["polls"].items()}
    world.updates.next_update_id = max(world.updates.next_update_id, int(data["next_update_id"]))
    world.callback_query_count = int(data["callback_query_count"])
    world.changed()


def write_text(path: Path, text: str) -> None:
    """Write atomically: a crash mid-write leaves the previous snapshot intact."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def save(world: World, path: Path) -> None:
    write_text(path, json.dumps(dump_world(world), ensure_ascii=False))


def load(world: World, path: Path) -> bool:
    """Load ``path`` if it exists; False (and a warning) if it is missing or unreadable."""
    if not path.is_file():
        return False
    try:
        load_world(world, json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        logger.warning("ignoring the unreadable emulator snapshot %s: %s", path, error)
        return False
    return True
