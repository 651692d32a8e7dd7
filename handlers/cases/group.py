"""Intake in a community group: #report / #反映 or a mention files a case in "other"."""

from __future__ import annotations

import logging
import re

from handlers.cases import notices as reply_notices
from handlers.cases.prompts import explain
from handlers.conversation import Turn, Written, keep_photo, queue_reply
from handlers.whistle import replies as whistle_replies
from storage import cases, people, text
from storage.cases import categories
from storage.errors import InvalidInput

logger = logging.getLogger(__name__)

TAGS = ("#反映", "#report")
_LEADING_TAG = re.compile(r"^\s*#(?:反映|report)(?![A-Za-z0-9_])", re.IGNORECASE)


def extract_report(message: Written, bot_username: str) -> str | None:
    """The words of a group report, or None if the message is not addressed to the bot."""
    words = message.words
    if words is None:
        return None
    tagged = _LEADING_TAG.match(words) is not None
    mention = f"@{bot_username}".lower()
    mentioned = any(value.lower() == mention for value in message.mentions)
    if not (tagged or mentioned):
        return None
    words = _LEADING_TAG.sub("", words, count=1)
    words = re.sub(re.escape(mention), "", words, flags=re.IGNORECASE)
    return words.strip(" \t\n:：,，")


async def on_group_message(turn: Turn) -> None:
    """A group message: file it if it is addressed to the bot, otherwise stay quiet."""
    message = turn.msg.written
    place = turn.msg.place
    if message is None or turn.msg.person is None:
        return
    if await whistle_replies.on_group_reply(turn):  # an opinion on a whistle
        return
    words = extract_report(message, turn.msg.account_name)
    if words is None:
        return
    answer: str | None = None
    async with turn.transaction() as session:
        group = await people.touch_group(
            session, channel=turn.msg.channel, external_id=place.chat_id, title=place.title or ""
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
            photo = await keep_photo(session, channel=turn.msg.channel, written=message)
            case, created = await cases.open_case(
                session,
                reporter=who.resident,
                category=await categories.category_by_code(session, categories.FALLBACK_CODE),
                text=description,
                source="group",
                source_chat_id=place.chat_id,
                source_message_id=message.ref.message_id,
                photos=[photo] if photo is not None else [],
                today=turn.today(),
            )
            # The confirmation is committed with the case, so a forced exit cannot lose it.
            await queue_reply(
                session, to=group, kind=reply_notices.FILED_IN_GROUP,
                params={"case": case.id, "reply_to": message.ref.message_id},
                key=f"filed:{case.id}", lang=who.lang,
            )  # fmt: skip
            logger.info("group %s filed case %s (created=%s)", place.chat_id, case.id, created)
    if answer is not None:
        await turn.reply(answer, quote=True)
