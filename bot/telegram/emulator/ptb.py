"""Wiring python-telegram-bot to an emulator in-process (no sockets): requests, Bot, builder."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from telegram import Bot
from telegram.ext import ApplicationBuilder
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

BASE_URL = "http://emulator/bot"
BASE_FILE_URL = "http://emulator/file/bot"


class PtbMixin:
    """The part of ``Emulator`` that hands out python-telegram-bot objects talking to it."""

    app: Any
    token: str

    def request(self, **kwargs: Any) -> HTTPXRequest:
        """An HTTPXRequest whose transport calls the emulator's ASGI app directly."""
        kwargs.setdefault("httpx_kwargs", {})
        kwargs["httpx_kwargs"] = {
            **kwargs["httpx_kwargs"],
            "transport": httpx.ASGITransport(app=self.app),
        }
        return HTTPXRequest(**kwargs)

    def bot(self, **kwargs: Any) -> Bot:
        """A ``telegram.Bot`` for this emulator (remember ``async with bot:`` / initialize)."""
        return Bot(
            self.token,
            base_url=BASE_URL,
            base_file_url=BASE_FILE_URL,
            request=self.request(),
            get_updates_request=self.request(),
            **kwargs,
        )

    def application_builder(self) -> ApplicationBuilder:
        """An ApplicationBuilder already pointed at this emulator; add handlers, build, run."""
        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(BASE_URL)
            .base_file_url(BASE_FILE_URL)
            .request(self.request(connection_pool_size=8))
            .get_updates_request(self.request())
        )
