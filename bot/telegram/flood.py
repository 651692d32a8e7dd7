"""Telegram's flood limits, kept for every send of the bot: one FloodLimits per bot.

The bot's rate limiter (bot/telegram/flood_limiter.py) waits here before each message it sends,
direct
reply or outbox notice alike, and the outbox sender (bot/telegram/sender.py) reads the same limits
to
skip the chats that must wait. AIORateLimiter is not used: it has no per-private-chat limit and
a 429 there blocks every request, however short the wait. Each limit is a sliding log of send
times. A send takes its place when it starts (so two waiting sends cannot both take the last
one) and is logged when its answer arrives: Telegram counted it somewhere between request and
answer, so spacing from the answer can never look too fast to Telegram, however slow the network.
"""

from __future__ import annotations

import asyncio
import math
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter

# How soon to look again when every place is taken by sends still waiting for their answer.
IN_FLIGHT_POLL = 0.02


def retry_after_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or, with PTB_TIMEDELTA, a timedelta; reading it warns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Window:
    """At most `capacity` events in any `span` seconds."""

    def __init__(self, capacity: int, span: float) -> None:
        self.capacity = capacity
        self.span = span
        self.events: deque[float] = deque()
        self.in_flight = 0  # sends started and not yet answered

    @classmethod
    def rate(cls, per: float, seconds: float) -> Window:
        """`per` events every `seconds`, e.g. rate(20, 60) or rate(0.5, 1)."""
        capacity = max(1, math.floor(per))
        return cls(capacity, seconds * capacity / per)

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        while self.events and self.events[0] <= now - self.span:
            self.events.popleft()
        over = len(self.events) + self.in_flight - self.capacity
        if over < 0:
            return 0.0
        if over < len(self.events):  # the place of the (over+1)-th oldest send frees first
            return self.events[over] + self.span - now
        return IN_FLIGHT_POLL  # only an answer still to come can free a place

    @property
    def idle(self) -> bool:
        return not self.events and not self.in_flight

    def record(self, now: float) -> None:
        self.events.append(now)


class FloodLimits:
    """The overall limit, one per chat (1/s), one per group (20/min), and a bot-wide pause."""

    def __init__(
        self,
        *,
        overall_per_second: float,
        per_chat_per_second: float,
        per_group_per_minute: float,
        clock: Callable[[], float],
    ) -> None:
        self.clock = clock
        self.overall = Window.rate(overall_per_second, 1.0)
        self._per_chat = per_chat_per_second
        self._per_group = per_group_per_minute
        self._chats: dict[int, list[Window]] = {}
        self._paused_until = 0.0

    def _windows(self, chat_id: int) -> list[Window]:
        windows = self._chats.get(chat_id)
        if windows is None:
            # Groups (negative ids) keep both: 1/s still applies inside a group.
            windows = [Window.rate(self._per_chat, 1.0)]
            if chat_id < 0:
                windows.append(Window.rate(self._per_group, 60.0))
            self._chats[chat_id] = windows
        return windows

    def chat_wait(self, chat_id: int) -> float:
        windows = self._chats.get(chat_id)
        if not windows:
            return 0.0
        now = self.clock()
        return max(window.wait(now) for window in windows)

    def busy_chats(self) -> list[int]:
        """Chats that may not be sent to yet; forgets chats idle long enough to be free."""
        now = self.clock()
        busy: list[int] = []
        for chat_id, windows in list(self._chats.items()):
            if max(window.wait(now) for window in windows) > 0:
                busy.append(chat_id)
            elif all(window.idle for window in windows):
                del self._chats[chat_id]
        return busy

    def pause(self, seconds: float) -> None:
        """Telegram's 429 is bot-wide: nothing goes out until it has passed."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.clock())

    def overall_wait(self) -> float:
        return max(self.paused_for(), self.overall.wait(self.clock()))

    def record(self, chat_id: int) -> None:
        now = self.clock()
        self.overall.record(now)
        for window in self._windows(chat_id):
            window.record(now)

    async def acquire(
        self, chat_id: int, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> float:
        """Wait for a place in the chat's and the overall limit, past any 429 pause, and take
        it; returns the seconds waited. Each chat waits for its own window only, so a flooded
        chat's sends queue behind each other while other chats go first."""
        started = self.clock()
        await self.wait_turn(chat_id, sleep)
        for window in (self.overall, *self._windows(chat_id)):
            window.in_flight += 1
        return self.clock() - started

    async def wait_turn(
        self, chat_id: int, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        """Wait until one more send to `chat_id` fits every limit and any 429 pause is over."""
        while (wait := max(self.overall_wait(), self.chat_wait(chat_id))) > 0:
            await sleep(wait)

    def settle(self, chat_id: int, *, sent: bool = True) -> None:
        """The answer to an acquired send arrived: log it (`sent`), or give its place back
        (Telegram refused it with 429 and did not count it)."""
        now = self.clock()
        for window in (self.overall, *self._windows(chat_id)):
            window.in_flight = max(0, window.in_flight - 1)
            if sent:
                window.record(now)
