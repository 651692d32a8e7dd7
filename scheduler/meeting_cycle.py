"""The monthly meeting's steps (call for topics, agenda, reminder, minutes), each posted once."""

from __future__ import annotations

from telegram.ext import Application


def schedule(app: Application) -> None:
    """Add this module's jobs to the application's JobQueue."""
