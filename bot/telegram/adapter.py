"""The Telegram side of the seam (handlers/conversation.py): a PTB Update becomes an Inbound, the
neutral replies become Bot API calls, and the neutral route table (handlers/routes.py) becomes
PTB handlers with the filters and order it always had.

PTB stays the transport (Application, polling and webhook, the rate limiter, per-chat order);
what to say lives in handlers/, which never sees a telegram object.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.runtime import runtime
from bot.telegram import CHANNEL, errors
from bot.telegram.limits import TEXT_MAX, split_text
from bot.telegram.media import telegram_file
from handlers import routes
from handlers.conversation import (
    Buttons,
    Contact,
    Handler,
    Inbound,
    Location,
    Media,
    Person,
    Place,
    Pressed,
    Ref,
    Reply,
    Turn,
    Written,
    is_link,
)

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
UPLOAD_SECONDS = 120.0  # a 16 MB export on a slow uplink (handlers/office/export.py)


async def _file(media: Media, engine: AsyncEngine) -> bytes | str | InputFile:
    """Bytes made for this reply, or a file the project keeps (by ref or uploaded)."""
    if media.data is not None:
        return media.data
    assert media.stored is not None
    return await telegram_file(engine, media.stored, media.name)


def person(user: object) -> Person | None:
    if not isinstance(user, User):
        return None
    return Person(
        external_id=str(user.id),
        name=" ".join(part for part in (user.first_name, user.last_name) if part),
        username=user.username,
        language_code=user.language_code,
        is_bot=user.is_bot,
    )


def written(message: Message) -> Written:
    """What someone wrote, as the conversations read it."""
    mentions = message.parse_entities([MessageEntity.MENTION]) or message.parse_caption_entities(
        [MessageEntity.MENTION]
    )
    contact = message.contact
    location = message.location
    return Written(
        ref=Ref(message.chat_id, message.message_id),
        text=message.text,
        caption=message.caption,
        photo=message.photo[-1].file_id if message.photo else None,
        photo_unique=message.photo[-1].file_unique_id if message.photo else None,
        location=Location(location.latitude, location.longitude) if location else None,
        contact=Contact(contact.phone_number, contact.user_id) if contact else None,
        sent_at=message.date,
        album=message.media_group_id,
        mentions=tuple(mentions.values()),
        author=person(message.from_user),
    )


def _command(message: Message) -> tuple[str | None, tuple[str, ...]]:
    """`/name@bot args…` at the start of a message (as PTB's CommandHandler reads it)."""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return None, ()
    assert message.text is not None
    name = message.text[1 : entity.length].split("@")[0].lower()
    return name, tuple(message.text.split()[1:])


def _shown_rows(message: Message) -> tuple[tuple[tuple[str, str], ...], ...]:
    markup = message.reply_markup
    if markup is None:
        return ()
    return tuple(
        tuple(
            (b.text, str(b.callback_data) if b.callback_data is not None else b.url or "")
            for b in row
        )  # fmt: skip
        for row in markup.inline_keyboard
    )


def inbound(update: Update, *, account: int, account_name: str) -> Inbound:
    """The neutral form of an update: who, where, what was written or pressed."""
    chat = update.effective_chat
    place = (
        Place(chat.id, private=chat.type == chat.PRIVATE, title=chat.title)
        if chat is not None
        else Place(0, private=False)
    )
    query = update.callback_query
    message = update.message if query is None else None
    pressed = None
    if query is not None and isinstance(query.message, Message):
        replied = query.message.reply_to_message
        pressed = Pressed(
            ref=Ref(query.message.chat_id, query.message.message_id),
            rows=_shown_rows(query.message),
            reply_to=written(replied) if replied is not None else None,
        )
    command, args = _command(message) if message is not None else (None, ())
    reply_to = message.reply_to_message if message is not None else None
    return Inbound(
        channel=CHANNEL,
        account=account,
        account_name=account_name,
        update_id=update.update_id,
        person=person(update.effective_user),
        place=place,
        written=written(message) if message is not None else None,
        pressed=pressed,
        reply_to=written(reply_to) if reply_to is not None else None,
        command=command,
        args=args,
        data=str(query.data) if query is not None and query.data is not None else None,
    )


def inline_markup(rows: Buttons) -> InlineKeyboardMarkup:
    """Neutral button rows on Telegram: an action is callback data, a link is a URL button."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, url=data)
                if is_link(data)
                else InlineKeyboardButton(label, callback_data=data)
                for label, data in row
            ]
            for row in rows
        ]
    )


def reply_markup(reply: Reply) -> Markup | None:
    if reply.rows:
        return inline_markup(reply.rows)
    keyboard = reply.keyboard
    if keyboard is None:
        return None
    if not keyboard.rows:
        return ReplyKeyboardRemove()
    return ReplyKeyboardMarkup(
        [[_key(key.label, key.asks) for key in row] for row in keyboard.rows],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _key(label: str, asks: str) -> KeyboardButton:
    return KeyboardButton(
        label, request_location=asks == "location", request_contact=asks == "contact"
    )


class TelegramChannel:
    """The Channel of one update: replies in its chat, the answer to its press."""

    name = CHANNEL

    def __init__(self, update: Update, bot: Bot, engine: AsyncEngine) -> None:
        self.update = update
        self.bot = bot
        self.engine = engine  # where the files the project keeps are (storage/media.py)

    def split(self, text: str) -> list[str]:
        return split_text(text, TEXT_MAX)

    async def send(self, reply: Reply) -> Ref:
        message = self.update.effective_message
        chat = self.update.effective_chat
        assert chat is not None
        markup = reply_markup(reply)
        if not isinstance(message, Message):  # a press on a message too old to be shown
            sent = await self.bot.send_message(chat.id, reply.text, reply_markup=markup)
        elif reply.document is not None:
            sent = await message.reply_document(
                await _file(reply.document, self.engine),
                filename=reply.document.name or None,
                caption=reply.text or None,
                reply_markup=markup,
                do_quote=reply.quote,
                write_timeout=UPLOAD_SECONDS,
            )
        elif reply.photo is not None:
            sent = await message.reply_photo(
                await _file(reply.photo, self.engine),
                filename=reply.photo.name or None,
                caption=reply.text or None,
                reply_markup=markup,
                do_quote=reply.quote,
            )
        else:
            sent = await message.reply_text(reply.text, reply_markup=markup, do_quote=reply.quote)
        return Ref(sent.chat_id, sent.message_id)

    async def answer(
        self, text: str | None = None, *, alert: bool = False, url: str | None = None
    ) -> None:
        query = self.update.callback_query
        if query is None:
            return
        if url is not None:
            await query.answer(url=url)
        else:
            await query.answer(text, show_alert=alert)

    async def edit(self, ref: Ref, *, text: str | None = None, rows: Buttons | None = None) -> bool:
        markup = inline_markup(rows) if rows else None
        try:
            if text is None:
                await self.bot.edit_message_reply_markup(
                    chat_id=ref.chat_id, message_id=ref.message_id, reply_markup=markup
                )
            else:
                await self.bot.edit_message_text(
                    text, chat_id=ref.chat_id, message_id=ref.message_id, reply_markup=markup
                )
        except BadRequest as error:
            logger.info("could not edit message %s: %s", ref.message_id, error)
            return False
        return True

    async def uploading(self) -> None:
        chat = self.update.effective_chat
        assert chat is not None
        message = self.update.effective_message
        if isinstance(message, Message):
            await message.reply_chat_action(ChatAction.UPLOAD_DOCUMENT)
        else:
            await self.bot.send_chat_action(chat.id, ChatAction.UPLOAD_DOCUMENT)

    def link(self, payload: str) -> str:
        return f"https://t.me/{self.bot.username}?start={payload}"


def turn(update: Update, context: Context) -> Turn:
    services = runtime(context.bot_data).services()
    return Turn(
        inbound(update, account=context.bot.id, account_name=context.bot.username),
        TelegramChannel(update, context.bot, services.engine),
        services,
    )


def callback(handle: Handler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """A neutral handler as a PTB callback."""

    async def run(update: Update, context: Context) -> None:
        await handle(turn(update, context))

    run.__name__ = run.__qualname__ = getattr(handle, "__name__", "handler")
    return run


def ptb_handler(route: routes.Route) -> BaseHandler[Update, Context, None]:
    private = filters.ChatType.PRIVATE
    run = callback(route.handle)
    if isinstance(route, routes.Command):
        command_filters: filters.BaseFilter = filters.UpdateType.MESSAGES
        if route.private_only:
            command_filters = command_filters & private
        if route.pattern is not None:
            command_filters = command_filters & filters.Regex(route.pattern)
        return CommandHandler(list(route.names), run, filters=command_filters)
    if isinstance(route, routes.Press):
        pattern = (
            "^(?:" + "|".join(re.escape(prefix) for prefix in route.prefixes) + ")"
            if route.prefixes
            else None
        )
        return CallbackQueryHandler(run, pattern=pattern)
    assert isinstance(route, routes.Messages)
    message_filters = {
        "private_contact": filters.CONTACT & private,
        "private_command": private & filters.COMMAND,
        "private": private,
        "group": filters.ChatType.GROUPS & ~filters.COMMAND,
    }[route.kind]
    return MessageHandler(message_filters, run)


def register(app: Application, table: Sequence[routes.Route] | None = None) -> None:
    """The route table on the Application, in its order; the error handler last."""
    for route in routes.ROUTES if table is None else table:
        app.add_handler(ptb_handler(route), group=-1 if route.first else 0)
    app.add_error_handler(errors.on_error)
