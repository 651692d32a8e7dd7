"""Builders of Bot API objects (User, Chat, ChatFullInfo, ChatMember...) as plain dicts."""

from __future__ import annotations

import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]


def now() -> int:
    """Unix time as Telegram sends it: whole seconds."""
    return int(time.time())


def user_object(
    user_id: int,
    first_name: str,
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
    is_bot: bool = False,
) -> JSONDict:
    user: JSONDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def private_chat_object(user: JSONDict) -> JSONDict:
    chat: JSONDict = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if key in user:
            chat[key] = user[key]
    return chat


def group_chat_object(chat_id: int, title: str, *, username: str | None = None) -> JSONDict:
    chat: JSONDict = {"id": chat_id, "type": "supergroup", "title": title}
    if username:
        chat["username"] = username
    return chat


def chat_full_info(chat: JSONDict, *, member_count: int | None = None) -> JSONDict:
    """What getChat answers: ChatFullInfo with the fields python-telegram-bot requires."""
    info: JSONDict = dict(chat)
    info.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
    )
    if chat["type"] != "private":
        info["permissions"] = {"can_send_messages": True}
    return info


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)


def chat_member_object(user: JSONDict, status: str) -> JSONDict:
    """A ChatMember of the given status: creator, administrator, member, left or kicked."""
    member: JSONDict = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update({"can_be_edited": False, "is_anonymous": False, "can_promote_members": False})
        member.update({right: True for right in _ADMIN_RIGHTS})
    elif status == "kicked":
        member["until_date"] = 0
    return member


def bot_user_object(token: str, username: str, first_name: str) -> JSONDict:
    """The bot's User; its id is the number before ':' in the token."""
    bot_id = int(token.split(":", 1)[0])
    return user_object(bot_id, first_name, username=username, is_bot=True)


def get_me_object(bot_user: JSONDict) -> JSONDict:
    """getMe answers the bot's User plus the capability flags only getMe carries."""
    return {
        **bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": True,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
