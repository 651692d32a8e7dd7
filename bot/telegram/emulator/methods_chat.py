"""Bot API methods about chats, members and files, plus harmless settings that just succeed."""

from __future__ import annotations

import logging
from typing import Any

from .errors import bad_request
from .messaging import Handler
from .objects import JSONDict, chat_full_info, chat_member_object
from .params import Params
from .state import ChatRecord, World

logger = logging.getLogger(__name__)

# Accepted and answered with True; recorded in Emulator.calls like everything else.
ACCEPTED = (
    "setmydescription",
    "setmyshortdescription",
    "setmyname",
    "setchatmenubutton",
    "setmydefaultadministratorrights",
    "pinchatmessage",
    "unpinchatmessage",
    "unpinallchatmessages",
    "setmessagereaction",
    "setchattitle",
    "setchatdescription",
    "banchatmember",
    "unbanchatmember",
    "restrictchatmember",
    "approvechatjoinrequest",
    "declinechatjoinrequest",
)


def _status(world: World, record: ChatRecord, user_id: int) -> str:
    if user_id == world.bot_user["id"]:
        return "member" if record.is_private else "administrator"
    if record.is_private:
        return "member" if user_id == record.id else "left"
    if user_id == record.creator:
        return "creator"
    if user_id in record.admins:
        return "administrator"
    return "member" if user_id in record.members else "left"


def _user(world: World, user_id: int) -> JSONDict:
    if user_id == world.bot_user["id"]:
        return world.bot_user
    if user_id not in world.users:
        raise bad_request("PARTICIPANT_ID_INVALID")
    return world.users[user_id]


async def get_chat(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    return chat_full_info(record.chat)


async def get_chat_member(world: World, params: Params) -> JSONDict:
    record = world.resolve_chat(params.get("chat_id"))
    user_id = params.int("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    return chat_member_object(_user(world, user_id), _status(world, record, user_id))


async def get_chat_administrators(world: World, params: Params) -> list[JSONDict]:
    record = world.resolve_chat(params.get("chat_id"))
    if record.is_private:
        raise bad_request("there are no administrators in the private chat")
    ids = ([record.creator] if record.creator is not None else []) + sorted(
        record.admins - {record.creator}
    )
    ids.append(world.bot_user["id"])
    return [chat_member_object(_user(world, i), _status(world, record, i)) for i in ids]


async def get_chat_member_count(world: World, params: Params) -> int:
    record = world.resolve_chat(params.get("chat_id"))
    return 2 if record.is_private else len(record.members) + 1


async def get_file(world: World, params: Params) -> JSONDict:
    stored = world.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {**stored.base(), "file_path": stored.file_path}


async def leave_chat(world: World, params: Params) -> bool:
    record = world.resolve_chat(params.get("chat_id"))
    if record.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    return True


async def accept(world: World, params: Params) -> Any:
    return True


METHODS: dict[str, Handler] = {
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "getchatmembercount": get_chat_member_count,
    "getfile": get_file,
    "leavechat": leave_chat,
    **{name: accept for name in ACCEPTED},
}
