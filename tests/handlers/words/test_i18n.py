"""Every user-facing string in the code has a Chinese translation with the same placeholders."""

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handlers.words.i18n import catalog_path, ngettext, translator

ROOT = Path(__file__).resolve().parents[3]
KEYWORDS = {"_": None, "N_": None, "ngettext": (2, 3)}


def _code_messages() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for package in ("bot", "handlers", "storage", "scheduler"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message)
    return found


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def zh_catalog():
    with catalog_path("zh").open("rb") as fh:
        return read_po(fh)


def test_every_message_in_the_code_is_translated(zh_catalog) -> None:
    code = _code_messages()
    assert code, "the extractor found nothing: keywords changed?"
    missing = []
    for message in code:
        key = message[0] if isinstance(message, tuple) else message
        entry = zh_catalog.get(key)
        translated = entry and (
            entry.string[0] if isinstance(entry.string, tuple) else entry.string
        )
        if not translated:
            missing.append(key)
    assert missing == [], "run `make messages` and translate these in handlers/words/locales/zh_CN"


def test_placeholders_survive_translation(zh_catalog) -> None:
    for entry in zh_catalog:
        if not entry.id:
            continue
        source = entry.id[0] if isinstance(entry.id, tuple) else entry.id
        target = entry.string[0] if isinstance(entry.string, tuple) else entry.string
        if target:  # untranslated entries are the other test's business
            assert _fields(target) == _fields(source), source


def test_languages_switch_output() -> None:
    assert translator("zh")("Accepted") == "已受理"
    assert translator("en")("Accepted") == "Accepted"
    assert ngettext("en", "{n} photo", "{n} photos", 2) == "{n} photos"
    assert re.search(r"[\u4e00-\u9fff]", ngettext("zh", "{n} photo", "{n} photos", 2))
