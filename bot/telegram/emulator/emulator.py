"""``Emulator``: a local Telegram (Bot API + control API) for offline tests and demos."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from .botapi import BotApi
from .control import control_routes
from .errors import error_for_status
from .faults import Faults, FloodViolation
from .keyboards import inline_buttons
from .media import MEDIA_KINDS
from .objects import JSONDict, bot_user_object
from .page import page_routes
from .people import PeopleMixin
from .ptb import PtbMixin
from .state import World
from .webhook_push import WebhookMixin

logger = logging.getLogger(__name__)


def describe(message: JSONDict, bot_id: int) -> str:
    """One line about a message, for failure messages."""
    sender = "bot" if message.get("from", {}).get("id") == bot_id else message["from"]["first_name"]
    body = (
        message.get("text")
        or message.get("caption")
        or next(
            (
                f"<{kind}>"
                for kind in (*MEDIA_KINDS, "location", "contact", "poll")
                if kind in message
            ),
            "<?>",
        )
    )
    buttons = [b.get("text") for b in inline_buttons(message)]
    return f"#{message['message_id']} {sender}: {body!r}" + (
        f" buttons={buttons}" if buttons else ""
    )


class Emulator(PeopleMixin, PtbMixin, WebhookMixin):
    """One emulated Telegram with one bot. See ``bot/telegram/emulator/README.md``."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "yishi_bot",
        bot_first_name: str = "Yishi",
    ) -> None:
        self.token = token
        self.world = World(token, bot_user_object(token, bot_username, bot_first_name))
        self.faults = Faults()
        # What the web chat page shows about people (labels, roles, places): the sandbox sets it.
        self.page_info: JSONDict = {}
        self.app = Starlette(
            routes=[
                *BotApi(self.world, self.faults).routes(),
                *control_routes(self),
                *page_routes(self),
            ]
        )

    @property
    def bot_user(self) -> JSONDict:
        return copy.deepcopy(self.world.bot_user)

    # -- reading what happened -------------------------------------------------------------
    def messages(self, chat_id: int) -> list[JSONDict]:
        """Every message in the chat in order (users' and the bot's), edits applied."""
        return copy.deepcopy(list(self.world.chat(chat_id).messages.values()))

    def bot_messages(self, chat_id: int) -> list[JSONDict]:
        return [m for m in self.messages(chat_id) if self.world.is_bot_message(m)]

    def last_bot_message(self, chat_id: int) -> JSONDict | None:
        found = self.bot_messages(chat_id)
        return found[-1] if found else None

    def chats(self) -> list[JSONDict]:
        return [copy.deepcopy(record.chat) for record in self.world.chats.values()]

    def users(self) -> list[JSONDict]:
        return copy.deepcopy(list(self.world.users.values()))

    def reply_keyboard(self, chat_id: int) -> JSONDict | None:
        """The reply keyboard (ReplyKeyboardMarkup) the bot last showed in the chat, if any."""
        return copy.deepcopy(self.world.chat(chat_id).reply_keyboard)

    def file_bytes(self, file_id: str) -> bytes:
        stored = self.world.files.get(file_id)
        if stored is None:
            raise LookupError(f"unknown file_id {file_id!r}")
        return stored.data

    @property
    def calls(self) -> list[tuple[str, JSONDict]]:
        """Every Bot API call received, in order: (method as sent, decoded parameters)."""
        return list(self.world.calls)

    def calls_of(self, method: str) -> list[JSONDict]:
        return [params for name, params in self.world.calls if name.lower() == method.lower()]

    @property
    def callback_answers(self) -> list[JSONDict]:
        return list(self.world.callback_answers)

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self.world.updates)

    def updates(self) -> list[JSONDict]:
        """Every update ever enqueued (confirmed or not), in order."""
        return self.world.updates.history()

    def changes(self, chat_id: int, *, after: int = 0, since: int | None = None) -> JSONDict:
        """Messages with id > after (or changed after revision ``since``), deleted ids, revision."""
        record = self.world.chat(chat_id)
        changed = [
            copy.deepcopy(m)
            for mid, m in record.messages.items()
            if mid > after or (since is not None and record.revisions.get(mid, 0) > since)
        ]
        deleted = [mid for mid, rev in record.deleted.items() if since is not None and rev > since]
        return {
            "chat_id": chat_id,
            "messages": changed,
            "deleted": deleted,
            "revision": self.world.revision,
            "reply_keyboard": record.reply_keyboard,
        }

    async def wait_for_change(
        self, chat_id: int, *, after: int = 0, since: int | None = None, timeout: float = 25.0
    ) -> JSONDict:
        """``changes()`` as soon as it has something (or empty after ``timeout``)."""
        found = await self._wait(
            lambda: self._nonempty(self.changes(chat_id, after=after, since=since)), timeout
        )
        return found if found is not None else self.changes(chat_id, after=after, since=since)

    @staticmethod
    def _nonempty(found: JSONDict) -> JSONDict | None:
        return found if found["messages"] or found["deleted"] else None

    async def _wait(self, probe: Callable[[], Any], timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            version = self.world.notifier.version
            found = probe()
            remaining = deadline - loop.time()
            if found is not None or remaining <= 0 or self.world.closing:
                return found
            await self.world.notifier.wait(version, remaining)

    async def wait_for_bot_message(
        self,
        chat_id: int,
        *,
        after: int = 0,
        predicate: Callable[[JSONDict], bool] | None = None,
        timeout: float = 5.0,
    ) -> JSONDict:
        """The first bot message in the chat with message_id > after (and predicate true)."""

        def probe() -> JSONDict | None:
            if chat_id not in self.world.chats:
                return None
            return next(
                (
                    m
                    for m in self.bot_messages(chat_id)
                    if m["message_id"] > after and (predicate is None or predicate(m))
                ),
                None,
            )

        found = await self._wait(probe, timeout)
        if found is None:
            got = self.messages(chat_id) if chat_id in self.world.chats else []
            lines = "\n  ".join(describe(m, self.world.bot_user["id"]) for m in got) or "(nothing)"
            raise TimeoutError(
                f"no bot message in chat {chat_id} after #{after} matching the predicate "
                f"within {timeout}s; the chat has:\n  {lines}"
            )
        return found

    # -- faults ----------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (optionally only for ``chat_id``) fail."""
        error = error_for_status(status, retry_after=retry_after, description=description)
        self.faults.fail_next(method, error, times=times, chat_id=chat_id)

    def block(self, user_id: int, *, notify_bot: bool = True) -> None:
        """The person blocks the bot: sends to them answer 403; the bot gets my_chat_member."""
        if notify_bot and user_id not in self.faults.blocked:
            self._my_chat_member(user_id, "member", "kicked")
        self.faults.blocked.add(user_id)

    def unblock(self, user_id: int, *, notify_bot: bool = True) -> None:
        if notify_bot and user_id in self.faults.blocked:
            self._my_chat_member(user_id, "kicked", "member")
        self.faults.blocked.discard(user_id)

    def set_delay(self, method: str, seconds: float) -> None:
        self.faults.set_delay(method, seconds)

    def set_rate_limit(
        self, per_chat_per_second: float | None = None, overall_per_second: float | None = None
    ) -> None:
        """Flood control for send* methods; None/None switches it off."""
        self.faults.set_rate_limit(per_chat_per_second, overall_per_second)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def flood_violations(self) -> list[FloodViolation]:
        """Calls that came before the retry_after of a 429 had passed: for sends, a 429 for
        one chat holds back that chat and one for the overall limit (or an injected one without
        a chat) holds back every send; any other method holds back only itself."""
        return self.faults.violations

    @property
    def answered_429(self) -> int:
        """How many 429s the emulator answered (injected or by flood control)."""
        return self.faults.answered_429
