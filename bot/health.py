"""What /healthz and /metrics read from the database and the running bot."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import outbox
from storage.db import session_scope

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT = 3.0  # seconds: a load balancer's check must not hang on a stuck database


@dataclass
class Health:
    """One check. `sender` is None in a process that sends nothing (`yishi api`)."""

    database: str  # "ok", "timeout" or the error's name
    sender: str  # "running", "stopped" or "none"
    backlog: dict[str, int] | None  # notices by status, None when the database did not answer
    state: str  # the intake's: "starting", "running" (takes updates) or "stopping"

    @property
    def broken(self) -> bool:
        return self.database != "ok" or self.sender == "stopped"

    @property
    def ok(self) -> bool:
        return not self.broken and self.state == "running"

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else ("unhealthy" if self.broken else self.state),
            "database": self.database,
            "sender": self.sender,
            "backlog": (self.backlog or {}).get(outbox.Status.PENDING),
            "outbox": self.backlog,
        }


async def read_backlog(engine: AsyncEngine) -> tuple[str, dict[str, int] | None]:
    """The database's state in a word, and the outbox by status when it answered."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT), session_scope(engine) as session:
            return "ok", await outbox.backlog(session)
    except TimeoutError:
        logger.warning("health check: the database did not answer in %.0f s", DATABASE_TIMEOUT)
        return "timeout", None
    except Exception as error:  # any failure to reach it is the answer, not a crash
        logger.warning("health check: the database failed: %r", error)
        return type(error).__name__, None


class Running(Protocol):
    """A channel's sender, as health sees it (bot/telegram/sender.py: Sender)."""

    @property
    def alive(self) -> bool: ...


async def check(engine: AsyncEngine, sender: Running | None, *, state: str) -> Health:
    database, backlog = await read_backlog(engine)
    sending = "none" if sender is None else ("running" if sender.alive else "stopped")
    return Health(database=database, sender=sending, backlog=backlog, state=state)
