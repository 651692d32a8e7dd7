"""Logging set-up for `yishi`: today's text lines, or one JSON object per line for collectors."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that say too much at INFO: httpx logs every request (each getUpdates poll and each
# message sent), alembic's plugin loader announces itself on every `yishi migrate`.
QUIET = {"httpx": logging.WARNING, "alembic.runtime.plugins": logging.WARNING}

# Everything a LogRecord carries by itself; any other attribute came from `extra=`.
_RECORD_KEYS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_CORE_KEYS = ("ts", "level", "logger", "message", "exc", "stack")
_MARK = "_yishi_handler"  # set on the handlers installed here, so a second call replaces them
HIDDEN = "…"
MIN_SECRET = 8  # shorter "secrets" are no real token, and hiding them would garble every line


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the time, as logging's last resort handler does.

    Binding the stream at set-up would keep writing to a stream that pytest's capture (or an
    embedding program) has since replaced and closed.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class Redactor(logging.Filter):
    """Hides secrets in every line: python-telegram-bot logs the Bot API URL, which holds the
    token, at DEBUG, and an exception may quote it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def hide(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        hidden = self.hide(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        if record.exc_info and not record.exc_text:  # as Formatter.format would, then hide it
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.hide(record.exc_text)
        if record.stack_info:
            record.stack_info = self.hide(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One line of JSON per record: ts, level, logger, message, exc, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _iso_utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key in _RECORD_KEYS or key.startswith("_"):
                continue
            # A field named like a core key must not overwrite it; keep it, renamed.
            entry[f"extra_{key}" if key in _CORE_KEYS else key] = _plain(value)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def _iso_utc(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{int(record.msecs):03d}Z"


def _plain(value: Any) -> Any:
    """The value if JSON can carry it as it is, else its repr (a log line must never fail)."""
    try:
        json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
    return value


def configure_logging(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    """Send the root logger to stderr as `fmt` ("text" or "json") at `level` (INFO, DEBUG...),
    with each of `secrets` (the bot token's secret part, the webhook secret) shown as "…".

    Calling it again replaces the handler it installed before instead of adding a second one;
    handlers that others installed (pytest's capture, for one) are left alone.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}: use text or json")
    root = logging.getLogger()
    root.setLevel(level.upper())  # an unknown level raises ValueError, as basicConfig did
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(Redactor(secrets))
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    for name, quiet_level in QUIET.items():
        logging.getLogger(name).setLevel(quiet_level)
