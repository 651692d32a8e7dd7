"""What every handler and job needs at run time, kept in bot_data (never a session)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings

RUNTIME_KEY = "yishi.runtime"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine


def runtime(bot_data: dict[str, Any]) -> Runtime:
    value = bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value
