"""What every message-producing Bot API method shares: target chat, reply, markup, limits."""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .entities import utf16_len
from .errors import bad_request
from .formatting import format_text
from .keyboards import parse_reply_markup
from .objects import JSONDict
from .params import Params
from .state import ChatRecord, World

logger = logging.getLogger(__name__)

Handler = Callable[[World, Params], Awaitable[Any]]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Keys of a message that make up its content (what forwardMessage / copyMessage carry over).
CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "audio",
    "video",
    "voice",
    "animation",
    "sticker",
    "video_note",
    "caption",
    "caption_entities",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


def reply_target(world: World, record: ChatRecord, params: Params) -> JSONDict | None:
    """The message being replied to (reply_parameters or legacy reply_to_message_id)."""
    reply = params.get("reply_parameters")
    allow_missing = params.flag("allow_sending_without_reply")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        if reply.get("chat_id") not in (None, record.id):
            record = world.resolve_chat(reply["chat_id"])
    else:
        message_id = params.int("reply_to_message_id")
    if message_id is None:
        return None
    target = world.message(record, message_id)
    if target is None and not allow_missing:
        raise bad_request("message to be replied not found")
    return target


def formatted(
    world: World, params: Params, field: str, *, required: bool
) -> tuple[str, list[JSONDict]]:
    """Text or caption (``field``) with parse_mode / entities applied and length checked."""
    raw = params.text(field) or ""
    entities_field = "entities" if field == "text" else f"{field}_entities"
    text, entities = format_text(
        raw, params.text("parse_mode"), params.get(entities_field), world.users
    )
    if field == "text":
        if required and not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
    elif utf16_len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return text, entities


def with_text(content: JSONDict, field: str, text: str, entities: list[JSONDict]) -> JSONDict:
    """Put text/caption and their entities into ``content`` (leaving out empty ones)."""
    if text:
        content[field] = text
    if entities:
        content["entities" if field == "text" else f"{field}_entities"] = entities
    return content


def send_bot_message(
    world: World, record: ChatRecord, params: Params, content: JSONDict
) -> JSONDict:
    """Store a message from the bot, applying reply_markup and reply parameters."""
    markup = parse_reply_markup(params.get("reply_markup"))
    reply_to = reply_target(world, record, params)
    if markup is not None:
        if "inline_keyboard" in markup:
            content["reply_markup"] = markup
        elif "keyboard" in markup:
            record.reply_keyboard = markup
        elif "remove_keyboard" in markup:
            record.reply_keyboard = None
    return world.add_message(record, world.bot_user, content, reply_to)


def content_of(message: JSONDict) -> JSONDict:
    """A deep copy of the content part of a message."""
    return {key: copy.deepcopy(message[key]) for key in CONTENT_KEYS if key in message}
