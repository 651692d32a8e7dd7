"""Rendering outbox rows (kind + params) into words and buttons in the recipient's language.

Storage queues `OutboxMessage(kind=..., params=...)`; a channel's sender asks `render_notice`
at send time. Each kind is one small function in its capability's notices module, registered
with @notice("kind") in handlers/words/notice.py; importing them here fills the table, and
none of them imports this module back.
"""

from __future__ import annotations

from typing import Any

from handlers.cases import notices as case_notices
from handlers.deliberation import notices as meeting_notices
from handlers.office import notices as office_notices
from handlers.whistle import notices as whistle_notices
from handlers.whistle import result_notices
from handlers.words.notice import HEAVY, RENDERERS, Buttons, Notice, Renderer, notice

__all__ = [
    "HEAVY",
    "RENDERERS",
    "Buttons",
    "Notice",
    "Renderer",
    "UnknownNotice",
    "notice",
    "render_notice",
]

# The capability modules register their kinds on import.
CAPABILITIES = (case_notices, meeting_notices, office_notices, whistle_notices, result_notices)


class UnknownNotice(KeyError):
    """An outbox row of a kind this version cannot render (e.g. written by a newer one)."""


def render_notice(kind: str, params: dict[str, Any], lang: str) -> Notice:
    try:
        renderer = RENDERERS[kind]
    except KeyError:
        raise UnknownNotice(kind) from None
    return renderer(params, lang)


@notice("text")
def _plain_text(params: dict[str, Any], lang: str) -> Notice:
    """Already-worded text (tests, operator messages)."""
    return Notice(text=str(params["text"]))
