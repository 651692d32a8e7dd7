"""Turn what a bot sends (text + parse_mode or entities) into what Telegram stores."""

from __future__ import annotations

import logging
from typing import Any

from .entities import detect_entities, utf16_len
from .errors import bad_request
from .html_format import parse_html
from .markdown_format import parse_markdown, parse_markdown_v2
from .textbuilder import sort_entities

logger = logging.getLogger(__name__)

_WHITESPACE = " \t\r\n"
# Auto-detected entities never appear inside these.
_OPAQUE = {"code", "pre", "text_link", "url", "email", "text_mention", "custom_emoji"}


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading/trailing whitespace; entities are shifted and clipped."""
    stripped_left = text.lstrip(_WHITESPACE)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_WHITESPACE)
    total = utf16_len(result)
    trimmed = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    return result, trimmed


def _merge_detected(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add commands/mentions/hashtags/URLs Telegram finds on its own, outside code and links."""
    merged = list(entities)
    for found in detect_entities(text):
        f_start, f_end = found["offset"], found["offset"] + found["length"]
        if not any(
            e["type"] in _OPAQUE and f_start < e["offset"] + e["length"] and e["offset"] < f_end
            for e in entities
        ):
            merged.append(found)
    return sort_entities(merged)


def format_text(
    text: str,
    parse_mode: str | None,
    entities: Any,
    users: dict[int, dict[str, Any]],
) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of a bot's text or caption, as Telegram would store them."""
    mode = (parse_mode or "").strip().lower()
    if entities:
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise bad_request("can't parse entities JSON object")
        plain, parsed = text, [dict(e) for e in entities]
    elif mode == "html":
        plain, parsed = parse_html(text, users)
    elif mode == "markdownv2":
        plain, parsed = parse_markdown_v2(text, users)
    elif mode == "markdown":
        plain, parsed = parse_markdown(text)
    elif mode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    else:
        plain, parsed = text, []
    plain, parsed = _trim(plain, parsed)
    return plain, _merge_detected(plain, parsed)
