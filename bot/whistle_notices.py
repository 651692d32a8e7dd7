"""Outbox notices of the whistle (kinds "whistle*"), worded at send time."""

from __future__ import annotations
