"""Concurrent updates across chats, strict order within one chat.

python-telegram-bot handles updates one at a time by default; with `concurrent_updates` it
handles them in any order. A resident's report must see their messages in the order sent (the
description before the photos), while one slow chat must not hold up the rest of the estate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.metrics import timed_update


def chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


# python-telegram-bot takes its concurrency slot before do_process_update runs: updates waiting
# for their chat's turn would hold slots, and 200 messages from one person would fill them all
# while everyone else waited. Its own semaphore is therefore made wide enough never to bind,
# and the real limit is taken once the chat's turn has come.
UNBOUNDED = 1 << 20


UPDATE_TYPES = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "poll_answer",
    "poll",
    "channel_post",
    "inline_query",
)


def update_type(update: object) -> str:
    """The kind of a Telegram update, as /metrics counts it (yishi_updates_total{type=…})."""
    if not isinstance(update, Update):
        return "other"
    return next((kind for kind in UPDATE_TYPES if getattr(update, kind, None)), "other")


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Up to `limit` at once, but never two of the same chat; waiting costs no slot."""

    def __init__(self, max_concurrent_updates: int = 32) -> None:
        super().__init__(UNBOUNDED)
        self.limit = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._slots:
                await timed_update(update_type(update), coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            # asyncio.Lock is FIFO: arrival order is kept within the chat
            async with lock, self._slots:
                await timed_update(update_type(update), coroutine)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
