"""A press whose object moved on is answered at once, naming what it is now (for a case:
handlers/cases/refs.py); then the spent buttons come off the pressed message."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import CallbackQuery, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

logger = logging.getLogger(__name__)


def _none_works(_data: str) -> bool:
    return False


async def drop_spent_buttons(
    query: CallbackQuery, still_works: Callable[[str], bool] = _none_works
) -> None:
    """Keep on the pressed message only the buttons that `still_works` (none by default) and
    those that carry no action (links); failing to is cosmetic (e.g. a 48-hour-old message)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    before = message.reply_markup.inline_keyboard
    rows = [
        [b for b in row if b.callback_data is None or still_works(str(b.callback_data))]
        for row in before
    ]
    rows = [row for row in rows if row]
    if sum(map(len, rows)) == sum(map(len, before)):
        return
    try:
        await message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(rows) if rows else None)
    except BadRequest as error:
        logger.info("could not clear buttons of message %s: %s", message.message_id, error)
