"""Residents' profiles and subscriptions, and groups registered by a secretary."""

from __future__ import annotations

from telegram.ext import Application


def register(app: Application) -> None:
    """Add this module's commands and buttons (before the catch-all handlers)."""
