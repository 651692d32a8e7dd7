"""``parse_mode=MarkdownV2`` and legacy ``Markdown``, turned into plain text plus entities."""

from __future__ import annotations

import logging
import re
from typing import Any

from .textbuilder import OpenEntity, TextBuilder, byte_offset, parse_error

logger = logging.getLogger(__name__)

_RESERVED = set("_*[]()~`>#+-=|{}.!")
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_CLOSERS = {
    "bold": "*",
    "underline": "__",
    "strikethrough": "~",
    "spoiler": "||",
    "text_link": "]",
    "custom_emoji": "]",
}
_OPENERS = [
    ("__", "underline"),
    ("||", "spoiler"),
    ("![", "custom_emoji"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
    ("[", "text_link"),
]
_USER_LINK = re.compile(r"^tg://user\?id=(\d+)$")
_EMOJI_LINK = re.compile(r"^tg://emoji\?id=(\d+)$")


def _closes(entity: OpenEntity, source: str, i: int) -> int:
    """How many characters at ``source[i]`` close ``entity`` (0: none)."""
    if entity.type == "italic":
        return 1 if source[i] == "_" and not source.startswith("__", i) else 0
    closer = _CLOSERS.get(entity.type, "\0")
    return len(closer) if source.startswith(closer, i) else 0


def _link_target(source: str, i: int) -> tuple[str | None, int]:
    """Parse ``(url)`` at ``source[i]``; returns the URL (None if absent) and the next index."""
    if not source.startswith("(", i):
        return None, i
    url: list[str] = []
    j = i + 1
    while j < len(source) and source[j] != ")":
        if source[j] == "\\" and j + 1 < len(source):
            j += 1
        url.append(source[j])
        j += 1
    if j >= len(source):
        raise parse_error(f"Can't find end of a url at byte offset {byte_offset(source, i)}")
    return "".join(url), j + 1


def _finish_link(
    builder: TextBuilder, entity: OpenEntity, source: str, i: int, users: dict[int, dict[str, Any]]
) -> int:
    url, i = _link_target(source, i)
    if entity.type == "custom_emoji":
        match = _EMOJI_LINK.match(url or "")
        if not match:
            raise parse_error("Custom emoji entity must contain a tg://emoji URL")
        entity.extra["custom_emoji_id"] = match.group(1)
    else:
        user = _USER_LINK.match(url or "")
        if user and int(user.group(1)) in users:
            entity.type, entity.extra = "text_mention", {"user": users[int(user.group(1))]}
        else:
            entity.extra["url"] = url if url is not None else ""
    builder.close(entity)
    return i


def _open_pre(builder: TextBuilder, source: str, i: int) -> tuple[OpenEntity, int]:
    entity = builder.open("pre", i)
    j = i + 3
    newline = source.find("\n", j)
    first_line = source[j:newline] if newline >= 0 else ""
    if first_line and not re.search(r"[\s`]", first_line):
        entity.extra["language"] = first_line
        j = newline + 1
    return entity, j


def parse_markdown_v2(
    source: str, users: dict[int, dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``source`` like Telegram's MarkdownV2, raising its errors (reserved chars...)."""
    builder = TextBuilder()
    stack: list[OpenEntity] = []
    quote: OpenEntity | None = None
    i = 0
    while i < len(source):
        char = source[i]
        top = stack[-1] if stack else None
        if char == "\\" and i + 1 < len(source) and 0 < ord(source[i + 1]) <= 126:
            builder.add(source[i + 1])
            i += 2
        elif top is not None and top.type in ("code", "pre"):
            closer = "`" if top.type == "code" else "```"
            if source.startswith(closer, i):
                builder.close(stack.pop())
                i += len(closer)
            else:
                builder.add(char)
                i += 1
        elif char == "\n" and quote is not None and not source.startswith(">", i + 1):
            builder.close(quote)
            quote = None
            builder.add(char)
            i += 1
        elif char == ">" and (i == 0 or source[i - 1] == "\n"):
            if quote is None:
                quote = builder.open("blockquote", i)
            i += 1
        elif top is not None and (count := _closes(top, source, i)):
            stack.pop()
            i += count
            if top.type in ("text_link", "custom_emoji"):
                i = _finish_link(builder, top, source, i, users)
            else:
                builder.close(top)
        elif source.startswith("```", i):
            entity, i = _open_pre(builder, source, i)
            stack.append(entity)
        elif char == "`":
            stack.append(builder.open("code", i))
            i += 1
        else:
            opener = next(
                ((tok, kind) for tok, kind in _OPENERS if source.startswith(tok, i)), None
            )
            if opener is not None:
                stack.append(builder.open(opener[1], i))
                i += len(opener[0])
                continue
            if char in _RESERVED:
                raise parse_error(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            builder.add(char)
            i += 1
    if stack:
        name = _NAMES.get(stack[-1].type, stack[-1].type)
        offset = byte_offset(source, stack[-1].source_index)
        raise parse_error(f"Can't find end of {name} entity at byte offset {offset}")
    if quote is not None:
        builder.close(quote)
    return builder.result()


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse legacy ``Markdown``: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    builder = TextBuilder()
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            builder.add(source[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            builder.add(char)
            i += 1
            continue
        token = "```" if source.startswith("```", i) else ("]" if char == "[" else char)
        end = source.find(token, i + (3 if token == "```" else 1))
        if end < 0:
            offset = byte_offset(source, i)
            raise parse_error(f"Can't find end of the entity starting at byte offset {offset}")
        if token == "```":
            entity, start = _open_pre(builder, source, i)
            builder.add(source[start:end])
            builder.close(entity)
            i = end + 3
        elif token == "]":
            entity = builder.open("text_link", i)
            builder.add(source[i + 1 : end])
            url, i = _link_target(source, end + 1)
            entity.extra["url"] = url if url is not None else ""
            builder.close(entity)
        else:
            entity = builder.open(kinds[char], i)
            builder.add(source[i + 1 : end])
            builder.close(entity)
            i = end + 1
    return builder.result()
