"""Replies that are outbox rows (handlers/conversation.py: queue_reply): a filed case's confirmation
is written in the same transaction as the case, so a crash after the commit cannot lose it."""

from __future__ import annotations

from typing import Any

from bot.notices import Notice, notice
from handlers.words.i18n import translator

FILED = "reply_filed"
FILED_IN_GROUP = "reply_filed_in_group"


@notice(FILED)
def filed(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        text=_(
            "Thank you. Your report is filed as #{number}. We will tell you at every step; "
            "send /case {number} to see it at any time."
        ).format(number=params["case"])
    )


@notice(FILED_IN_GROUP)
def filed_in_group(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        text=_("Recorded as #{number}. Follow it in a private chat with me: /case {number}").format(
            number=params["case"]
        ),
        reply_to_message_id=params.get("reply_to"),
    )
