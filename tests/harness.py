"""The bot under test: the real python-telegram-bot Application polling the emulator.

A test reads like a conversation: `await bot.say(WANG, "/report")` sends the message through the
emulator, waits until the application has handled that update, and returns what the bot sent
back in that chat meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

from bot.config import Settings, load_settings
from bot.runtime import runtime
from bot.telegram.app import (
    ALLOWED_UPDATES,
    build_application,
    publish_commands,
    start_scheduling,
    start_sending,
    stop_scheduling,
    stop_sending,
)
from bot.telegram.emulator import Emulator
from bot.telegram.flood_limiter import FloodLimiter
from bot.telegram.sender import Sender
from storage.db import create_engine

TOKEN = "123456:TEST-token"
WANG, LI, ZHAO, ALICE = 1001, 1002, 1003, 1004
GROUP = -100500


def make_emulator() -> Emulator:
    emu = Emulator(token=TOKEN, bot_username="yishi_bot", bot_first_name="Yishi")
    emu.add_user(WANG, "王", last_name="芳", language_code="zh-hans")
    emu.add_user(LI, "李", last_name="强", language_code="zh-hans")
    emu.add_user(ZHAO, "赵", last_name="敏", language_code="zh")
    emu.add_user(ALICE, "Alice", last_name="Smith", language_code="en-GB")
    emu.add_group(GROUP, "阳光花园居民群", member_ids=[WANG, LI, ZHAO, ALICE])
    return emu


def emulator_request(emu: Emulator, **kwargs: Any) -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"transport": httpx.ASGITransport(app=emu.app)}, **kwargs)


class BotUnderTest:
    def __init__(self, emu: Emulator, database_url: str, **settings: Any) -> None:
        self.emu = emu
        # Tests talk faster than people and want answers at once: the 1/s per chat and 20/min
        # per group that Telegram needs would make every turn wait, and the per-person limit
        # would stop long conversations. tests/handlers/test_flood.py keeps the real ones.
        settings.setdefault("send_per_chat_per_second", 1000)
        settings.setdefault("send_per_group_per_minute", 60_000)
        settings.setdefault("person_limit_messages", 10_000)
        self.settings: Settings = load_settings(
            telegram_token=TOKEN,
            telegram_api_url="http://emulator/bot",
            database_url=database_url,
            **settings,
        )
        self.app: Application | None = None
        self.handled = 0
        self.expected = 0
        self._progress = asyncio.Condition()

    async def start(self) -> None:
        self.engine = create_engine(self.settings.database_url)
        app = build_application(
            self.settings,
            self.engine,
            request=emulator_request(self.emu),
            updates_request=emulator_request(self.emu),
        )
        app.add_handler(TypeHandler(Update, self._count), group=1000)
        await app.initialize()
        await publish_commands(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        self.app = app
        self.sender.poll_interval = 0.05  # notices show up within a test's patience
        start_sending(app)
        start_scheduling(app)

    @property
    def sender(self) -> Sender:
        assert self.app is not None
        sender = runtime(self.app.bot_data).sender
        assert sender is not None
        return sender

    @property
    def limiter(self) -> FloodLimiter:
        assert self.app is not None
        limiter = self.app.bot.rate_limiter
        assert isinstance(limiter, FloodLimiter)
        return limiter

    async def stop(self) -> None:
        """Stop the application and drop everything it held in memory (a restart)."""
        app, self.app = self.app, None
        if app is None:
            return
        assert app.updater is not None
        await stop_scheduling(app)
        await stop_sending(app)
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await self.engine.dispose()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def _count(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self._progress:
            self.handled += 1
            self._progress.notify_all()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every update sent so far has been handled."""
        async with self._progress:
            await asyncio.wait_for(
                self._progress.wait_for(lambda: self.handled >= self.expected), timeout
            )

    async def _turn(self, chat_id: int, act: Any) -> list[dict[str, Any]]:
        before = [m["message_id"] for m in self.emu.bot_messages(chat_id)]
        result = act()
        self.expected += 1
        await self.settle()
        self.last = result
        return [m for m in self.emu.bot_messages(chat_id) if m["message_id"] not in before]

    async def say(self, user: int, text: str, chat: int | None = None) -> list[dict[str, Any]]:
        return await self._turn(chat or user, lambda: self.emu.send_text(user, text, chat_id=chat))

    async def send(self, user: int, kind: str, chat: int | None = None, **kw: Any):
        act = getattr(self.emu, f"send_{kind}")
        return await self._turn(chat or user, lambda: act(user, chat_id=chat, **kw))

    async def press(
        self,
        user: int,
        text: str | None = None,
        *,
        data: str | None = None,
        message: dict[str, Any] | None = None,
        chat: int | None = None,
        forged: bool = False,
    ) -> list[dict[str, Any]]:
        """Press a button on `message` (default: the newest bot message that has it)."""
        chat_id = chat or user
        if message is None and not forged:
            message = self.message_with_button(chat_id, text=text, data=data)
        message_id = (
            message["message_id"] if message else self.emu.bot_messages(chat_id)[-1]["message_id"]
        )
        kwargs: dict[str, Any] = {"chat_id": chat_id, "data": data, "text": text}
        if forged:
            kwargs["forged"] = True
        return await self._turn(chat_id, lambda: self.emu.press(user, message_id, **kwargs))

    def message_with_button(
        self, chat_id: int, *, text: str | None = None, data: str | None = None
    ) -> dict[str, Any]:
        for message in reversed(self.emu.bot_messages(chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if (text is not None and button["text"] == text) or (
                        data is not None and button.get("callback_data") == data
                    ):
                        return message
        raise LookupError(f"no bot message in {chat_id} has a button {text or data!r}")

    async def redeliver(self, update_id: int, chat_id: int) -> list[dict[str, Any]]:
        return await self._turn(chat_id, lambda: self.emu.redeliver(update_id))

    def answers(self) -> list[str]:
        return [a.get("text") or "" for a in self.emu.callback_answers]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in messages]


def button_data(message: dict[str, Any], label: str) -> str:
    """The callback data behind a button, e.g. to press it again after it was cleared."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise LookupError(label)


def find_button(emu: Emulator, chat_id: int, label: str) -> tuple[int, str]:
    """(message id, callback data) of the newest bot message in the chat with that button."""
    for message in reversed(emu.bot_messages(chat_id)):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return message["message_id"], button["callback_data"]
    raise LookupError(f"no bot message in {chat_id} has a button {label!r}")


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [b["text"] if isinstance(b, dict) else b for row in rows for b in row]
