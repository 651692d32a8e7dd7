"""Acting as people: every action stores a message (or a press) and enqueues one Update."""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from .entities import detect_entities
from .interactions import InteractionsMixin
from .media import media_object
from .objects import JSONDict, user_object
from .state import World

logger = logging.getLogger(__name__)


class PeopleMixin(InteractionsMixin):
    """The part of ``Emulator`` that plays the humans."""

    world: World

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> JSONDict:
        """Register a person; their private chat with the bot has id == user_id."""
        if user_id <= 0:
            raise ValueError(f"user ids are positive, got {user_id}")
        user = user_object(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.world.add_user(user)
        return copy.deepcopy(user)

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        member_ids: Sequence[int] = (),
        admin_ids: Sequence[int] = (),
    ) -> JSONDict:
        """A supergroup (negative id) the bot is an administrator of; admin_ids[0] is creator."""
        record = self.world.add_group(chat_id, title, list(member_ids), list(admin_ids))
        return copy.deepcopy(record.chat)

    def _post(
        self,
        user_id: int,
        chat_id: int | None,
        content: JSONDict,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        record = self._chat_for(user_id, chat_id)
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = self.world.message(record, reply_to_message_id)
            if reply_to is None:
                raise LookupError(f"no message {reply_to_message_id} in chat {record.id}")
        message = self.world.add_message(record, self.world.user(user_id), content, reply_to)
        self.world.push_update("message", message)
        return message

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A text message, with entities (commands, mentions, hashtags...) as Telegram adds."""
        content: JSONDict = {"text": text}
        entities = detect_entities(text)
        if entities:
            content["entities"] = entities
        return self._post(user_id, chat_id, content, reply_to_message_id)

    def _media(
        self,
        user_id: int,
        chat_id: int | None,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        file_name: str | None = None,
        **extra: Any,
    ) -> JSONDict:
        stored = self.world.files.add(data, kind, file_name=file_name)
        content: JSONDict = {kind: media_object(self.world.files, kind, stored, **extra)}
        if caption:
            content["caption"] = caption
            entities = detect_entities(caption)
            if entities:
                content["caption_entities"] = entities
        return self._post(user_id, chat_id, content)

    def send_photo(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        data: bytes = b"<fake jpeg>",
    ) -> JSONDict:
        return self._media(user_id, chat_id, "photo", data, caption=caption)

    def send_document(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        filename: str = "a.pdf",
        data: bytes = b"...",
        caption: str | None = None,
    ) -> JSONDict:
        return self._media(user_id, chat_id, "document", data, caption=caption, file_name=filename)

    def send_voice(
        self, user_id: int, *, chat_id: int | None = None, duration: int = 3
    ) -> JSONDict:
        return self._media(user_id, chat_id, "voice", b"<fake ogg>", duration=duration)

    def send_sticker(
        self, user_id: int, *, chat_id: int | None = None, emoji: str = "😀"
    ) -> JSONDict:
        return self._media(user_id, chat_id, "sticker", b"<fake webp>", emoji=emoji)

    def send_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> JSONDict:
        location = {"latitude": latitude, "longitude": longitude}
        return self._post(user_id, chat_id, {"location": location})

    def send_contact(
        self, user_id: int, phone_number: str, *, chat_id: int | None = None
    ) -> JSONDict:
        """Shares the sender's own contact (what a request_contact keyboard button sends)."""
        user = self.world.user(user_id)
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": user["first_name"],
            "user_id": user_id,
        }
        if "last_name" in user:
            contact["last_name"] = user["last_name"]
        return self._post(user_id, chat_id, {"contact": contact})

    def send_unparseable(
        self, user_id: int, text: str = "?", *, chat_id: int | None = None
    ) -> JSONDict:
        """An Update the bot's library cannot read: a message whose ``date`` is not a number.

        Telegram does not send one today, but a bug or a field changed in a new Bot API
        version could; the bot must skip it, not stop. It is queued (and pushed to a webhook)
        like any other update, but not kept in the chat."""
        record = self._chat_for(user_id, chat_id)
        message: JSONDict = {
            "message_id": record.next_message_id,
            "from": copy.deepcopy(self.world.user(user_id)),
            "chat": copy.deepcopy(record.chat),
            "date": "yesterday",
            "text": text,
        }
        record.next_message_id += 1  # never reused by a message that is kept
        return self.world.push_update("message", message)
