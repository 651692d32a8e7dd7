"""The last line: log the fault, tell the person politely, never show a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot import metrics
from bot.runtime import Runtime, runtime
from bot.telegram import CHANNEL
from handlers.conversation import AlreadyHandled, Throttled
from handlers.person_limit import Verdict
from handlers.words.i18n import N_, translator
from storage.db import session_scope
from storage.people import find_resident, language_from_code

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
TOO_FAST = N_("You are sending messages too fast. Please wait a moment, then send again.")


async def on_error(update: object, context: Context) -> None:
    """Error handler for every update."""
    error = context.error
    if isinstance(error, AlreadyHandled):
        logger.info("update %s was delivered again; already handled", error.args[0])
        return
    if isinstance(error, Throttled):
        metrics.UPDATES_REFUSED.inc()
        await _refuse(update, context, warn=error.verdict is Verdict.WARN)
        return
    if isinstance(error, Forbidden):
        logger.info("cannot reach the chat: %s", error)
        return
    if isinstance(error, RetryAfter):  # the limiter logged and counted it; any apology would
        return  # be refused the same way
    if not isinstance(update, Update):
        logger.error("error outside an update: %r", error, exc_info=error)
        return
    logger.error("error while handling update %s", update.update_id, exc_info=error)
    user, chat = update.effective_user, update.effective_chat
    if chat is None or user is None or chat.type != chat.PRIVATE:
        return  # groups are not told about our faults; the log has it
    lang = await _language(context, user.id, user.language_code)
    _ = translator(lang)
    text = _(
        "Sorry, something went wrong on our side. Please try again in a moment; "
        "/mycases shows what has been filed."
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await chat.send_message(text)
    except TelegramError:
        logger.warning("could not tell chat %s about the error", chat.id)


async def _refuse(update: object, context: Context, *, warn: bool) -> None:
    """Past the per-person limit: "please wait" once per window, then silence; a press is
    still answered (Telegram shows a spinner until it is), silently."""
    if not isinstance(update, Update) or update.effective_user is None:
        return
    text: str | None = None
    if warn:
        user = update.effective_user
        text = translator(await _language(context, user.id, user.language_code))(TOO_FAST)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        elif text is not None and update.effective_message is not None:
            chat = update.effective_chat
            private = chat is not None and chat.type == chat.PRIVATE
            await update.effective_message.reply_text(text, do_quote=not private)
    except TelegramError as error:
        logger.info("could not answer a refused update %s: %s", update.update_id, error)


async def _language(context: Context, user_id: int, language_code: str | None) -> str:
    """The resident's chosen language if the database answers, else Telegram's hint."""
    running: Runtime = runtime(context.bot_data)
    try:
        async with session_scope(running.engine) as session:
            resident = await find_resident(session, channel=CHANNEL, external_id=str(user_id))
        if resident is not None:
            return resident.language
    except Exception:  # the database may be why we are here
        logger.warning("could not read the language of user %s", user_id)
    return language_from_code(language_code, running.settings.default_language)
