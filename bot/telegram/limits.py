"""Telegram's size limits on what the bot sends, in one place, and how a text is made to fit.

Telegram counts a text's length in UTF-16 code units after entity parsing (an emoji outside the
Basic Multilingual Plane counts 2); the bot sends plain text (no parse_mode), so that count is
taken on the text as it is. Callback data is counted in bytes of UTF-8. The Bot API answers 400
"message is too long", "message caption is too long" or "BUTTON_DATA_INVALID" beyond them.
"""

from __future__ import annotations

TEXT_MAX = 4096  # a message's text
CAPTION_MAX = 1024  # a photo's caption
CALLBACK_DATA_MAX = 64  # an inline button's callback data, in bytes
ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _fitting(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` code units (never half a surrogate pair)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def cut_text(text: str, limit: int = TEXT_MAX) -> str:
    """`text` if it fits, else its head with "…" at the end: for what cannot be split (an edit)."""
    if utf16_len(text) <= limit:
        return text
    return text[: _fitting(text, limit - utf16_len(ELLIPSIS))].rstrip() + ELLIPSIS


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """`text` as consecutive messages of at most `limit` code units each, losing nothing but
    the blanks where it is cut: at the last line break that fits, else the last space, else
    anywhere. Telegram trims each message, so no part begins or ends with a blank."""
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        head = rest[: _fitting(rest, limit)]
        at = head.rfind("\n")
        if at <= 0:
            at = head.rfind(" ")
        if at <= 0:
            at = len(head)
        parts.append(rest[:at].rstrip())
        rest = rest[at:].strip()
    if rest or not parts:
        parts.append(rest)
    return parts


def check_callback_data(data: str) -> None:
    """A button Telegram would refuse is a programming error: raise before anything is sent."""
    size = len(data.encode("utf-8"))
    if not 1 <= size <= CALLBACK_DATA_MAX:
        raise ValueError(
            f"callback data {data!r} is {size} bytes; Telegram takes 1-{CALLBACK_DATA_MAX}"
        )
