"""What a notice is in words (text, buttons, a picture), and the table of its renderers.

An outbox row carries a kind and params; a renderer turns them into a `Notice` in the
recipient's language at send time. Each capability's notices module registers its kinds here
with @notice("kind"); handlers/notices.py imports them all and renders a row (render_notice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.actions import MAX_BYTES

Buttons = list[list[tuple[str, str]]]


@dataclass(frozen=True)
class Notice:
    text: str
    buttons: Buttons = field(default_factory=list)
    # A picture with the text as its caption (after it, when too long for one): a file the
    # project keeps (a media_files id, storage/media.py), or bytes made at send time (a chart).
    photo: int | None = None
    image: bytes | None = None
    # Edit this earlier message of the bot's in place (a live report) instead of sending anew.
    edit_message_id: int | None = None
    # Quote this message of the chat (the group message a reply answers), if it still exists.
    reply_to_message_id: int | None = None

    def __post_init__(self) -> None:
        # Checked when the notice is rendered, so the sender gives it up as unrenderable (and
        # says so) instead of sending what a channel would refuse.
        for row in self.buttons:
            for _label, data in row:
                size = len(data.encode("utf-8"))
                if not 1 <= size <= MAX_BYTES:
                    raise ValueError(
                        f"callback data {data!r} is {size} bytes; a button takes 1-{MAX_BYTES}"
                    )


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
