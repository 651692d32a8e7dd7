"""Acting as people on what is already there: pressing buttons, voting, editing, blocking."""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

from .entities import detect_entities
from .keyboards import find_button
from .objects import JSONDict, chat_member_object, now
from .state import ChatRecord, World

logger = logging.getLogger(__name__)


class InteractionsMixin:
    """The part of ``Emulator`` where people react to the bot's messages."""

    world: World

    def _chat_for(self, user_id: int, chat_id: int | None) -> ChatRecord:
        """The chat the person acts in (their private chat when ``chat_id`` is None)."""
        self.world.user(user_id)
        record = self.world.chat(user_id if chat_id is None else chat_id)
        if record.is_private and record.id != user_id:
            raise ValueError(f"user {user_id} cannot write in the private chat of {record.id}")
        return record

    def edit_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> JSONDict:
        """The person edits their own text message: an ``edited_message`` Update."""
        record = self._chat_for(user_id, chat_id)
        message = self.world.message(record, message_id)
        if message is None or message["from"]["id"] != user_id:
            raise LookupError(f"user {user_id} has no message {message_id} in chat {record.id}")
        message["text"] = text
        message.pop("entities", None)
        entities = detect_entities(text)
        if entities:
            message["entities"] = entities
        message["edit_date"] = now()
        self.world.touch(record, message_id)
        self.world.push_update("edited_message", message)
        return copy.deepcopy(message)

    def press(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        data: str | None = None,
        text: str | None = None,
        forged: bool = False,
    ) -> JSONDict:
        """Press an inline button (by callback_data or visible text): a CallbackQuery Update.

        ``forged=True`` sends ``data`` even if no button carries it (a tampered client).
        """
        record = self._chat_for(user_id, chat_id)
        message = self.world.message(record, message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in chat {record.id}")
        if forged:
            if data is None:
                raise ValueError("a forged press needs data=")
            callback_data = data
        else:
            if data is None and text is None:
                raise ValueError("press needs data= or text=")
            callback_data = find_button(message, data=data, text=text)["callback_data"]
        self.world.callback_query_count += 1
        query_id = str(4_000_000_000_000_000_000 + self.world.callback_query_count)
        query: JSONDict = {
            "id": query_id,
            "from": copy.deepcopy(self.world.user(user_id)),
            "message": copy.deepcopy(message),
            "chat_instance": str(abs(record.id) * 7919 + 104729),
            "data": callback_data,
        }
        self.world.open_callback_queries.add(query_id)
        self.world.push_update("callback_query", query)
        return query

    def vote(
        self, user_id: int, chat_id: int, message_id: int, option_ids: Sequence[int]
    ) -> JSONDict:
        """Vote in a poll the bot sent: a ``poll`` Update, plus ``poll_answer`` if not anonymous."""
        record = self._chat_for(user_id, chat_id)
        message = self.world.message(record, message_id)
        if message is None or "poll" not in message:
            raise LookupError(f"no poll in message {message_id} of chat {record.id}")
        poll = message["poll"]
        for option in option_ids:
            poll["options"][option]["voter_count"] += 1
        poll["total_voter_count"] += 1
        self.world.touch(record, message_id)
        self.world.push_update("poll", poll)
        if not poll["is_anonymous"]:
            answer = {
                "poll_id": poll["id"],
                "user": self.world.user(user_id),
                "option_ids": list(option_ids),
            }
            self.world.push_update("poll_answer", answer)
        return copy.deepcopy(poll)

    def _my_chat_member(self, user_id: int, old_status: str, new_status: str) -> None:
        """The ``my_chat_member`` Update Telegram sends when a person blocks/unblocks the bot."""
        record = self._chat_for(user_id, None)
        bot_user = self.world.bot_user
        self.world.push_update(
            "my_chat_member",
            {
                "chat": record.chat,
                "from": self.world.user(user_id),
                "date": now(),
                "old_chat_member": chat_member_object(bot_user, old_status),
                "new_chat_member": chat_member_object(bot_user, new_status),
            },
        )

    def redeliver(self, update_id: int) -> None:
        """Enqueue an identical copy of an earlier update (same update_id)."""
        self.world.updates.redeliver(update_id)
        self.world.changed()
