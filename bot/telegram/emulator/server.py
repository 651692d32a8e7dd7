"""Serving an emulator (or any ASGI app) over loopback HTTP with uvicorn, in the running loop."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Literal

from bot.serving import serving

if TYPE_CHECKING:
    from .emulator import Emulator

logger = logging.getLogger(__name__)


def serve_app_in_background(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    lifespan: Literal["auto", "on", "off"] = "auto",
) -> AbstractAsyncContextManager[str]:
    """Run uvicorn for any ASGI ``app`` in a task; yields ``http://host:port``; stops on exit."""
    return serving(app, host, port, log_level=log_level, lifespan=lifespan, graceful=2)


@contextlib.asynccontextmanager
async def serve_in_background(
    emu: Emulator, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> AsyncIterator[str]:
    """Run uvicorn for ``emu.app`` in a task; yields ``http://host:port``; stops on exit.

    Bot API base URL: ``f"{url}/bot"``; file base URL: ``f"{url}/file/bot"``. Leaving also
    stops the webhook pusher.
    """
    try:
        async with serve_app_in_background(
            emu.app, host, port, log_level=log_level, lifespan="off"
        ) as url:
            logger.info("Telegram emulator listening on %s", url)
            try:
                yield url
            finally:
                await emu.close()
                emu.world.closing = True  # long polls answer at once so connections can close
                emu.world.changed()
    finally:
        emu.world.closing = False
