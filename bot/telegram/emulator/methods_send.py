"""Bot API methods that put messages into chats: sendMessage, sendPoll, forwards..."""

from __future__ import annotations

import copy
import logging
from typing import Any

from .errors import bad_request
from .messaging import (
    Handler,
    content_of,
    formatted,
    send_bot_message,
    with_text,
)
from .objects import JSONDict
from .params import Params
from .state import World

logger = logging.getLogger(__name__)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def send_message(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    text, entities = formatted(world, params, "text", required=True)
    return send_bot_message(world, record, params, with_text({}, "text", text, entities))


async def send_location(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    latitude, longitude = params.number("latitude"), params.number("longitude")
    if latitude is None or longitude is None:
        raise bad_request("wrong latitude or longitude specified")
    location: JSONDict = {"latitude": latitude, "longitude": longitude}
    return send_bot_message(world, record, params, {"location": location})


async def send_contact(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    phone, first_name = params.text("phone_number"), params.text("first_name")
    if not phone or not first_name:
        raise bad_request("phone number or first name is empty")
    contact: JSONDict = {"phone_number": phone, "first_name": first_name}
    if params.text("last_name"):
        contact["last_name"] = params.text("last_name")
    return send_bot_message(world, record, params, {"contact": contact})


def _poll_options(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise bad_request("poll options must be an array")
    texts = [item if isinstance(item, str) else (item or {}).get("text", "") for item in raw]
    if len(texts) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(texts) > 12:
        raise bad_request("poll can't have more than 12 options")
    if not all(isinstance(text, str) and text.strip() for text in texts):
        raise bad_request("poll options must be non-empty")
    return texts


async def send_poll(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    question = params.text("question")
    if not question or not question.strip():
        raise bad_request("poll question must be non-empty")
    poll_type = params.text("type") or "regular"
    poll: JSONDict = {
        "id": str(5_000_000_000_000_000_000 + len(world.polls) + 1),
        "question": question,
        "options": [
            {"text": text, "voter_count": 0, "persistent_id": str(index)}
            for index, text in enumerate(_poll_options(params.get("options")))
        ],
        "total_voter_count": 0,
        "is_closed": params.flag("is_closed"),
        "is_anonymous": params.flag("is_anonymous", True),
        "type": poll_type,
        "allows_multiple_answers": params.flag("allows_multiple_answers"),
        "allows_revoting": params.flag("allows_revoting"),
        "members_only": params.flag("members_only"),
    }
    if poll_type == "quiz":
        correct = params.get("correct_option_ids")
        if correct is None and params.int("correct_option_id") is not None:
            correct = [params.int("correct_option_id")]
        if not correct:
            raise bad_request("quiz poll must have correct option ids")
        poll["correct_option_ids"] = list(correct)
    message = send_bot_message(world, record, params, {"poll": poll})
    world.polls[poll["id"]] = (record.id, message["message_id"])
    return message


async def stop_poll(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    message = world.message(record, params.int("message_id"))
    if message is None or "poll" not in message:
        raise bad_request("message with poll to stop not found")
    if message["poll"]["is_closed"]:
        raise bad_request("poll has already been closed")
    message["poll"]["is_closed"] = True
    world.touch(record, message["message_id"])
    return copy.deepcopy(message["poll"])


async def send_chat_action(world: World, params: Params) -> bool:
    world.resolve_chat(params.get("chat_id"))
    if params.text("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def _source(world: World, params: Params, what: str) -> JSONDict:
    source_chat = world.resolve_chat(params.get("from_chat_id"))
    message = world.message(source_chat, params.int("message_id"))
    if message is None:
        raise bad_request(f"message to {what} not found")
    return message


async def forward_message(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    source = _source(world, params, "forward")
    content = content_of(source)
    content["forward_origin"] = {
        "type": "user",
        "sender_user": source["from"],
        "date": source["date"],
    }
    return world.add_message(record, world.bot_user, content)


async def copy_message(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    content = content_of(_source(world, params, "copy"))
    if params.get("caption") is not None:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        caption, entities = formatted(world, params, "caption", required=False)
        with_text(content, "caption", caption, entities)
    message = send_bot_message(world, record, params, content)
    return {"message_id": message["message_id"]}


METHODS: dict[str, Handler] = {
    "sendmessage": send_message,
    "sendlocation": send_location,
    "sendcontact": send_contact,
    "sendpoll": send_poll,
    "stoppoll": stop_poll,
    "sendchataction": send_chat_action,
    "forwardmessage": forward_message,
    "copymessage": copy_message,
}
