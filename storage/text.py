"""Rules for what residents type: descriptions, addresses, and personal data in output."""

from __future__ import annotations

import re
import unicodedata

from storage.errors import InvalidInput

DESCRIPTION_MIN = 4
DESCRIPTION_MAX = 2000
ADDRESS_MIN = 2
ADDRESS_MAX = 300

# Mainland mobiles (1[3-9]x, 11 digits) and landlines with area codes, with the common
# separators; run over anything the bot posts so a number typed into a report is not repeated.
_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)"
    r"|(?<!\d)(0\d{2,3})[\s-]?(\d{7,8})(?!\d)"
)


def _meaningful(text: str) -> int:
    """How many letters and digits (any script) the text has."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN")


def clean_description(text: str | None) -> str:
    """A description worth filing, or InvalidInput with the reason."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("empty")
    if _meaningful(text) == 0:
        raise InvalidInput("no_words")
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput("too_long", limit=DESCRIPTION_MAX, length=len(text))
    if _meaningful(text) < DESCRIPTION_MIN:
        raise InvalidInput("too_short", minimum=DESCRIPTION_MIN)
    return text


def clean_address(text: str | None) -> str:
    text = " ".join((text or "").split())
    if _meaningful(text) < ADDRESS_MIN:
        raise InvalidInput("address_too_short")
    if len(text) > ADDRESS_MAX:
        raise InvalidInput("too_long", limit=ADDRESS_MAX, length=len(text))
    return text


def mask_phones(text: str) -> str:
    """138 1234 5678 -> 138****5678; 021-12345678 -> 021-****5678."""

    def _mask(match: re.Match[str]) -> str:
        if match.group(1):
            return f"{match.group(1)}****{match.group(3)}"
        return f"{match.group(4)}-****{match.group(5)[-4:]}"

    return _PHONE.sub(_mask, text)
