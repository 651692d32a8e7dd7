"""Reading updates: one that python-telegram-bot cannot parse is skipped, never fatal.

PTB reads a getUpdates batch as a whole (Update.de_list): one update it cannot parse failed the
batch, the Updater's offset never moved, and the same batch came back for ever, so one bad
update stopped the bot for everyone. Here each update is read on its own; one that cannot be
read is replaced by a bare {"update_id": N}, an Update no handler matches, so its offset is
confirmed like any other. It is logged with its update_id and kind only (the payload is a
resident's message) and counted in /metrics. The webhook (bot/telegram/webhook.py) reads the same
way.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

from bot.metrics import UNPARSEABLE

logger = logging.getLogger(__name__)


def readable(data: Any) -> dict[str, Any] | None:
    """`data` if PTB can read it as an Update; a bare {"update_id": N} when it cannot (logged
    and counted); None when it is no update at all (not an object, no update_id)."""
    try:
        Update.de_json(data, None)
        return data  # type: ignore[no-any-return]
    except Exception as error:  # any field may be malformed in its own way
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return None
        kind = next((str(key)[:32] for key in data if key != "update_id"), "empty")
        logger.warning(
            "update %d (%s) cannot be read (%s): skipped", update_id, kind, type(error).__name__
        )
        UNPARSEABLE.inc()
        return {"update_id": update_id}


class ReadingBot(ExtBot[dict[str, Any]]):
    """An ExtBot whose getUpdates survives an update it cannot read (see `readable`)."""

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        return [update for item in result if (update := readable(item)) is not None]
