"""Translations: gettext catalogs (zh_CN default, en), compiled from the .po files on first use.

Message ids are English. The catalogs are the .po sources in handlers/words/locales; they are
compiled in
memory with Babel, so a fresh clone needs no build step and no binary .mo files are committed.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).with_name("locales")
DOMAIN = "yishi"
CATALOG_DIRS = {"zh": "zh_CN", "en": "en"}

Translate = Callable[[str], str]


def catalog_path(lang: str) -> Path:
    return LOCALES / CATALOG_DIRS[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(CATALOG_DIRS))
def translations(lang: str) -> gettext.NullTranslations:
    path = catalog_path(lang if lang in CATALOG_DIRS else "zh")
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=CATALOG_DIRS.get(lang, "zh_CN"))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translator(lang: str) -> Translate:
    """The `_` for one reader's language."""
    return translations(lang).gettext


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction where it is translated later (labels, tables)."""
    return message
