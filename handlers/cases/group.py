"""Intake in a community group: #report / #反映 or a mention files a case in "other"."""

from __future__ import annotations

import logging
import re

from telegram import Message, MessageEntity, Update

from bot import reply_notices
from handlers.cases.prompts import explain
from handlers.common import (
    CHANNEL,
    Context,
    local_today,
    queue_reply,
    reply,
    speaker,
    transaction,
)
from handlers.whistle import replies as whistle_replies
from storage import cases, people, text
from storage.cases import categories
from storage.errors import InvalidInput

logger = logging.getLogger(__name__)

TAGS = ("#反映", "#report")
_LEADING_TAG = re.compile(r"^\s*#(?:反映|report)(?![A-Za-z0-9_])", re.IGNORECASE)


def extract_report(message: Message, bot_username: str) -> str | None:
    """The words of a group report, or None if the message is not addressed to the bot."""
    words = message.text if message.text is not None else message.caption
    if words is None:
        return None
    tagged = _LEADING_TAG.match(words) is not None
    mention = f"@{bot_username}".lower()
    entities = message.parse_entities([MessageEntity.MENTION]) or message.parse_caption_entities(
        [MessageEntity.MENTION]
    )
    mentioned = any(value.lower() == mention for value in entities.values())
    if not (tagged or mentioned):
        return None
    words = _LEADING_TAG.sub("", words, count=1)
    words = re.sub(re.escape(mention), "", words, flags=re.IGNORECASE)
    return words.strip(" \t\n:：,，")


async def on_group_message(turn: Turn) -> None:
    """A group message: file it if it is addressed to the bot, otherwise stay quiet."""
    message = update.message
    chat = update.effective_chat
    if message is None or chat is None or update.effective_user is None:
        return
    if await whistle_replies.on_group_reply(update, context):  # an opinion on a whistle
        return
    words = extract_report(message, context.bot.username)
    if words is None:
        return
    answer: str | None = None
    async with turn.transaction() as session:
        group = await people.touch_group(
            session, channel=CHANNEL, external_id=chat.id, title=chat.title or ""
        )
        who = await turn.speaker(session)
        _ = who._
        try:
            description = text.clean_description(words)
        except InvalidInput as error:
            if error.reason == "too_long":  # not empty: name the limit, as the private chat does
                answer = explain(error, who.lang)
            else:
                answer = _(
                    "Please describe the problem after the tag, for example: "
                    "#report The lift in building 3 has been broken since Monday."
                )
        else:
            case, created = await cases.open_case(
                session,
                reporter=who.resident,
                category=await categories.category_by_code(session, categories.FALLBACK_CODE),
                text=description,
                source="group",
                source_chat_id=chat.id,
                source_message_id=message.message_id,
                photos=[message.photo[-1].file_id] if message.photo else [],
                today=turn.today(),
            )
            # The confirmation is committed with the case, so a forced exit cannot lose it.
            await queue_reply(
                session, to=group, kind=reply_notices.FILED_IN_GROUP,
                params={"case": case.id, "reply_to": message.message_id},
                key=f"filed:{case.id}", lang=who.lang,
            )  # fmt: skip
            logger.info("group %s filed case %s (created=%s)", chat.id, case.id, created)
    if answer is not None:
        await turn.reply(answer, quote=True)
