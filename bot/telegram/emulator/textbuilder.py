"""Shared pieces of the parse_mode parsers: text accumulated with UTF-16 entity offsets."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from .entities import utf16_len
from .errors import ApiError, bad_request

logger = logging.getLogger(__name__)


def parse_error(detail: str) -> ApiError:
    """``400 Bad Request: can't parse entities: <detail>``, as Telegram words it."""
    return bad_request(f"can't parse entities: {detail}")


def byte_offset(source: str, index: int) -> int:
    """UTF-8 byte offset of ``source[index]``; Telegram reports parse errors in bytes."""
    return len(source[:index].encode("utf-8"))


@dataclass
class OpenEntity:
    """An entity whose start is known and whose end is still to come."""

    type: str
    start: int
    source_index: int
    extra: dict[str, Any] = field(default_factory=dict)
    tag: str = ""


class TextBuilder:
    """Collects plain text and finished entities while a formatted text is parsed."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.position = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self._parts.append(text)
        self.position += utf16_len(text)

    def open(self, type_: str, source_index: int, tag: str = "", **extra: Any) -> OpenEntity:
        return OpenEntity(type_, self.position, source_index, dict(extra), tag)

    def close(self, entity: OpenEntity) -> None:
        length = self.position - entity.start
        if length > 0:
            self.entities.append(
                {"type": entity.type, "offset": entity.start, "length": length, **entity.extra}
            )

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        return self.text, sort_entities(self.entities)


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Telegram's order: by offset, the longer (outer) entity first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))
