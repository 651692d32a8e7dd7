"""Rendering outbox rows (kind + params) into words and buttons in the recipient's language.

Storage queues `OutboxMessage(kind=..., params=...)`; the sender asks `render_notice` at send
time. Each kind is one small function registered with @notice("kind").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.telegram.limits import check_callback_data

Buttons = list[list[tuple[str, str]]]


@dataclass(frozen=True)
class Notice:
    text: str
    buttons: Buttons = field(default_factory=list)
    # A picture with the text as its caption (after it, when too long for one): a Telegram
    # file id, or bytes made at send time (a chart).
    photo: str | None = None
    image: bytes | None = None
    # Edit this earlier message of the bot's in place (a live report) instead of sending anew.
    edit_message_id: int | None = None
    # Quote this message of the chat (the group message a reply answers), if it still exists.
    reply_to_message_id: int | None = None

    def __post_init__(self) -> None:
        # Checked when the notice is rendered, so the sender gives it up as unrenderable (and
        # says so) instead of sending what Telegram would refuse.
        for row in self.buttons:
            for _label, data in row:
                check_callback_data(data)


Renderer = Callable[[dict[str, Any], str], Notice]
RENDERERS: dict[str, Renderer] = {}
# Kinds whose renderer does real work (draws a chart): the sender runs them in a thread.
HEAVY: set[str] = set()


def notice(kind: str, *, heavy: bool = False) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        RENDERERS[kind] = renderer
        if heavy:
            HEAVY.add(kind)
        return renderer

    return register


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


# The case notices register themselves on import; kept last to avoid a circular import.
import bot.case_notices  # noqa: E402, F401
import bot.digest_notices  # noqa: E402, F401
import bot.failure_notices  # noqa: E402, F401
import bot.meeting_notices  # noqa: E402, F401
import bot.reply_notices  # noqa: E402, F401
import bot.report_notices  # noqa: E402, F401
import bot.whistle_notices  # noqa: E402, F401
import bot.whistle_result_notices  # noqa: E402, F401
