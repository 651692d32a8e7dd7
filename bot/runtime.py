"""What every handler needs at run time, kept in bot_data (never a session); jobs get theirs
from the scheduler (scheduler/core.py: JobContext)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from handlers.conversation import Services
from handlers.person_limit import PersonLimit
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from scheduler.core import Scheduler


class Sending(Protocol):
    """The outbox sender of the running channel (bot/telegram/sender.py: Sender)."""

    @property
    def alive(self) -> bool: ...
    async def deliver_now(self, message: OutboxMessage) -> bool: ...
    def wake(self) -> None: ...
    def start(self) -> object: ...
    async def stop(self) -> None: ...


RUNTIME_KEY = "yishi.runtime"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sender: Sending | None = None  # wake() it after a transaction that queued notices
    scheduler: Scheduler | None = None  # started and stopped with the bot (bot/telegram/app.py)
    person_limit: PersonLimit = field(default_factory=PersonLimit)  # handlers/conversation.py

    def services(self) -> Services:
        """What a conversation's turn needs (handlers/conversation.py: Turn)."""
        sender = self.sender
        if sender is None:
            return Services(self.engine, self.settings, self.person_limit)
        return Services(
            self.engine,
            self.settings,
            self.person_limit,
            deliver=sender.deliver_now,
            wake=sender.wake,
        )


def runtime(bot_data: dict[str, Any]) -> Runtime:
    value = bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value
