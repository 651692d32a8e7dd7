"""Bot API methods that change existing messages: edits, deletions, callback answers."""

from __future__ import annotations

import copy
import logging
from typing import Any

from .errors import bad_request
from .keyboards import parse_reply_markup
from .media import MEDIA_KINDS
from .messaging import Handler, formatted
from .objects import JSONDict, now
from .params import Params
from .state import ChatRecord, World

logger = logging.getLogger(__name__)

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _editable(world: World, params: Params) -> tuple[ChatRecord, JSONDict]:
    if params.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    record = world.resolve_chat(params.get("chat_id"))
    if params.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    message = world.message(record, params.int("message_id"))
    if message is None:
        raise bad_request("message to edit not found")
    if not world.is_bot_message(message):
        raise bad_request("message can't be edited")
    return record, message


def _inline_markup(params: Params) -> JSONDict | None:
    markup = parse_reply_markup(params.get("reply_markup"))
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _apply(
    world: World, record: ChatRecord, message: JSONDict, changes: dict[str, Any]
) -> JSONDict:
    """Apply ``changes`` (a None/empty value removes the key); 400 if nothing changes."""
    updated = dict(message)
    for key, value in changes.items():
        if value:
            updated[key] = value
        else:
            updated.pop(key, None)
    if all(updated.get(key) == message.get(key) for key in changes):
        raise bad_request(NOT_MODIFIED)
    updated["edit_date"] = now()
    message.clear()
    message.update(updated)
    world.touch(record, message["message_id"])
    return copy.deepcopy(message)


async def edit_message_text(world: World, params: Params) -> JSONDict:
    record, message = _editable(world, params)
    text, entities = formatted(world, params, "text", required=True)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    markup = _inline_markup(params)
    changes = {"text": text, "entities": entities, "reply_markup": markup}
    return _apply(world, record, message, changes)


async def edit_message_caption(world: World, params: Params) -> JSONDict:
    record, message = _editable(world, params)
    if not any(kind in message for kind in MEDIA_KINDS):
        raise bad_request("there is no caption in the message to edit")
    caption, entities = formatted(world, params, "caption", required=False)
    changes = {
        "caption": caption,
        "caption_entities": entities,
        "reply_markup": _inline_markup(params),
    }
    return _apply(world, record, message, changes)


async def edit_message_reply_markup(world: World, params: Params) -> JSONDict:
    record, message = _editable(world, params)
    return _apply(world, record, message, {"reply_markup": _inline_markup(params)})


async def delete_message(world: World, params: Params) -> bool:
    record = world.resolve_chat(params.get("chat_id"))
    message_id = params.int("message_id")
    if message_id is None or world.message(record, message_id) is None:
        raise bad_request("message to delete not found")
    world.delete_message(record, message_id)
    return True


async def delete_messages(world: World, params: Params) -> bool:
    record = world.resolve_chat(params.get("chat_id"))
    ids = params.get("message_ids")
    if not isinstance(ids, list) or not ids:
        raise bad_request("message identifiers are not specified")
    for message_id in ids:
        if world.message(record, message_id) is not None:
            world.delete_message(record, int(message_id))
    return True


async def answer_callback_query(world: World, params: Params) -> bool:
    query_id = params.text("callback_query_id")
    if query_id not in world.open_callback_queries:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    world.open_callback_queries.discard(query_id)
    world.callback_answers.append(
        {
            "callback_query_id": query_id,
            "text": params.text("text"),
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
            "cache_time": params.int("cache_time"),
        }
    )
    world.changed()
    return True


METHODS: dict[str, Handler] = {
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "deletemessages": delete_messages,
    "answercallbackquery": answer_callback_query,
}
