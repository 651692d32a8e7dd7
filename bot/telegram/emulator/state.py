"""The emulated world: users, chats, their messages, pending updates and stored files."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .files import FileStore
from .notify import Notifier
from .objects import JSONDict, group_chat_object, now, private_chat_object
from .updates import UpdateQueue
from .webhook_push import WebhookPusher

logger = logging.getLogger(__name__)


@dataclass
class ChatRecord:
    """One chat and everything in it. ``revisions`` / ``deleted`` feed the live control API."""

    chat: JSONDict
    members: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    creator: int | None = None
    messages: dict[int, JSONDict] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: JSONDict | None = None
    revisions: dict[int, int] = field(default_factory=dict)
    deleted: dict[int, int] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_private(self) -> bool:
        return self.chat["type"] == "private"


class World:
    """All state of one emulated Telegram, shared by the Bot API and the control API."""

    def __init__(self, token: str, bot_user: JSONDict) -> None:
        self.token = token
        self.bot_user = bot_user
        self.users: dict[int, JSONDict] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.files = FileStore()
        self.updates = UpdateQueue()
        self.notifier = Notifier()
        self.calls: list[tuple[str, JSONDict]] = []
        self.callback_answers: list[JSONDict] = []
        self.open_callback_queries: set[str] = set()
        self.callback_query_count = 0
        self.polls: dict[str, tuple[int, int]] = {}  # poll id -> (chat id, message id)
        self.allowed_updates: list[str] | None = None
        self.webhook: JSONDict = {"url": ""}
        self.pusher = WebhookPusher(self)
        self.commands: dict[str, list[JSONDict]] = {}
        self.revision = 0
        self.poll_generation = 0
        self.closing = False

    # -- people and chats ------------------------------------------------------------------
    def add_user(self, user: JSONDict) -> None:
        self.users[user["id"]] = user
        self.chats.setdefault(user["id"], ChatRecord(private_chat_object(user)))

    def add_group(
        self, chat_id: int, title: str, member_ids: list[int], admin_ids: list[int]
    ) -> ChatRecord:
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        record = ChatRecord(group_chat_object(chat_id, title))
        record.members = set(member_ids) | set(admin_ids)
        record.admins = set(admin_ids)
        record.creator = admin_ids[0] if admin_ids else None
        self.chats[chat_id] = record
        self.changed()
        return record

    def user(self, user_id: int) -> JSONDict:
        if user_id not in self.users:
            raise LookupError(f"unknown user {user_id}; call add_user first")
        return self.users[user_id]

    def chat(self, chat_id: int) -> ChatRecord:
        if chat_id not in self.chats:
            raise LookupError(f"unknown chat {chat_id}")
        return self.chats[chat_id]

    def resolve_chat(self, value: Any) -> ChatRecord:
        """The chat a Bot API ``chat_id`` names (an id or "@username"); 400 if unknown."""
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            for record in self.chats.values():
                if record.chat.get("username", "").lower() == value[1:].lower():
                    return record
            raise bad_request("chat not found")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        return self.chats[chat_id]

    # -- messages --------------------------------------------------------------------------
    def add_message(
        self,
        record: ChatRecord,
        sender: JSONDict,
        content: JSONDict,
        reply_to: JSONDict | None = None,
    ) -> JSONDict:
        """Store a new message in the chat and return a copy of it."""
        message: JSONDict = {
            "message_id": record.next_message_id,
            "from": copy.deepcopy(sender),
            "chat": copy.deepcopy(record.chat),
            "date": now(),
        }
        record.next_message_id += 1
        if reply_to is not None:
            quoted = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
            message["reply_to_message"] = copy.deepcopy(quoted)
        message.update(copy.deepcopy(content))
        record.messages[message["message_id"]] = message
        if not sender.get("is_bot"):
            record.members.add(sender["id"])
        self.touch(record, message["message_id"])
        return copy.deepcopy(message)

    def message(self, record: ChatRecord, message_id: Any) -> JSONDict | None:
        """The stored (mutable) message, or None."""
        try:
            return record.messages.get(int(message_id))
        except (TypeError, ValueError):
            return None

    def delete_message(self, record: ChatRecord, message_id: int) -> None:
        del record.messages[message_id]
        record.revisions.pop(message_id, None)
        self.revision += 1
        record.deleted[message_id] = self.revision
        self.changed()

    def touch(self, record: ChatRecord, message_id: int) -> None:
        """Note that a message was created or changed, and wake waiters."""
        self.revision += 1
        record.revisions[message_id] = self.revision
        self.changed()

    def is_bot_message(self, message: JSONDict) -> bool:
        return bool(message.get("from", {}).get("id") == self.bot_user["id"])

    # -- updates ---------------------------------------------------------------------------
    def push_update(self, kind: str, payload: JSONDict) -> JSONDict:
        update = self.updates.push(kind, payload)
        self.changed()
        return update

    def changed(self) -> None:
        self.notifier.notify()
