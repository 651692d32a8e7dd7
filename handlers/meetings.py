"""The monthly deliberation meeting: agenda approval, the in-chat run, decisions."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:
    """Add this module's commands and buttons (before the catch-all handlers)."""
