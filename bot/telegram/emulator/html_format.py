"""``parse_mode=HTML``: Telegram's HTML subset turned into plain text plus entities."""

from __future__ import annotations

import logging
import re
from typing import Any

from .textbuilder import OpenEntity, TextBuilder, byte_offset, parse_error

logger = logging.getLogger(__name__)

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_OTHER_TAGS = {"a", "span", "tg-emoji", "blockquote"}
_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_USER_LINK = re.compile(r"^tg://user\?id=(\d+)$")


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref in _NAMED:
            return _NAMED[ref]
        code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
        return chr(code) if 0 < code <= 0x10FFFF else match.group(0)

    return _CHAR_REF.sub(replace, text)


def _attributes(source: str, start: int, raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    pos = 0
    while pos < len(raw.rstrip()):
        match = _ATTR.match(raw, pos)
        if not match or match.end() == pos:
            raise parse_error(
                f"Unexpected end of name token at byte offset {byte_offset(source, start)}"
            )
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attrs[match.group(1).lower()] = _unescape(value)
        pos = match.end()
    return attrs


def _start_tag(
    builder: TextBuilder,
    source: str,
    index: int,
    name: str,
    attrs: dict[str, str],
    users: dict[int, dict[str, Any]],
) -> OpenEntity:
    if name in _SIMPLE_TAGS:
        extra: dict[str, Any] = {}
        if name == "code" and attrs.get("class", "").startswith("language-"):
            extra["language"] = attrs["class"][len("language-") :]
        return builder.open(_SIMPLE_TAGS[name], index, name, **extra)
    if name == "a":
        href = attrs.get("href", "")
        user_link = _USER_LINK.match(href)
        if user_link and int(user_link.group(1)) in users:
            return builder.open("text_mention", index, name, user=users[int(user_link.group(1))])
        return builder.open("text_link", index, name, url=href)
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise parse_error('Tag "span" must have class "tg-spoiler"')
        return builder.open("spoiler", index, name)
    if name == "tg-emoji":
        return builder.open("custom_emoji", index, name, custom_emoji_id=attrs.get("emoji-id", ""))
    kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    return builder.open(kind, index, name)


def _close(builder: TextBuilder, stack: list[OpenEntity], entity: OpenEntity) -> None:
    language = entity.extra.pop("language", None) if entity.type == "code" else None
    if language is not None and stack and stack[-1].type == "pre":
        stack[-1].extra["language"] = language
        return
    builder.close(entity)


def parse_html(source: str, users: dict[int, dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``source`` like Telegram's HTML parse mode, raising its error on bad markup."""
    builder = TextBuilder()
    stack: list[OpenEntity] = []
    index = 0
    while index < len(source):
        lt = source.find("<", index)
        chunk = source[index:] if lt < 0 else source[index:lt]
        if chunk:
            builder.add(_unescape(chunk))
        if lt < 0:
            break
        gt = source.find(">", lt)
        if gt < 0:
            raise parse_error(f"Unclosed start tag at byte offset {byte_offset(source, lt)}")
        inner = source[lt + 1 : gt]
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise parse_error(f"Unexpected end tag at byte offset {byte_offset(source, lt)}")
            if name != stack[-1].tag:
                raise parse_error(
                    f"Unmatched end tag at byte offset {byte_offset(source, lt)}, "
                    f'expected "</{stack[-1].tag}>", found "</{name}>"'
                )
            _close(builder, stack, stack.pop())
        else:
            name_match = re.match(r"[a-zA-Z0-9-]*", inner)
            name = name_match.group(0).lower() if name_match else ""
            if name not in _SIMPLE_TAGS and name not in _OTHER_TAGS:
                raise parse_error(
                    f'Unsupported start tag "{name}" at byte offset {byte_offset(source, lt)}'
                )
            attrs = _attributes(source, lt, inner[len(name) :].rstrip("/"))
            stack.append(_start_tag(builder, source, lt, name, attrs, users))
        index = gt + 1
    if stack:
        raise parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return builder.result()
