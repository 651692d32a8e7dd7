"""Outbox notices of proposals, meetings, decisions and digests, worded at send time."""

from __future__ import annotations
