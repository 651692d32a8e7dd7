"""The baseline: a bare python-telegram-bot echo bot (library defaults), for bench/intake.py.

ECHO_CONCURRENT=1 turns on python-telegram-bot's concurrent_updates, as Yishi's per-chat
processor does, so the second baseline compares like with like.

Every message is echoed with one inline button; every press is answered and acknowledged.
"""

from __future__ import annotations

import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

BUTTON = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ok")]])


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        update.effective_message.text or "received", reply_markup=BUTTON
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None and update.effective_chat is not None
    await update.callback_query.answer()
    await update.effective_chat.send_message("pressed", reply_markup=BUTTON)


def main() -> None:
    api = os.environ["YISHI_TELEGRAM_API_URL"]
    app = (
        Application.builder()
        .token(os.environ["YISHI_TELEGRAM_TOKEN"])
        .base_url(api)
        .concurrent_updates(os.environ.get("ECHO_CONCURRENT") == "1")
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.run_polling(poll_interval=0.0, timeout=30, allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
