"""The whistle's scheduled work: the reminder before the deadline, results at it."""

from __future__ import annotations

from telegram.ext import Application


def schedule(app: Application) -> None:
    """Add this module's jobs to the application's JobQueue."""
