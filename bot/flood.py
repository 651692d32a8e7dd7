"""Telegram's flood limits, kept by the sender itself (bot/outbox.py).

AIORateLimiter is not used: it has no per-private-chat limit and a 429 there blocks every
request, where the sender only needs to skip the chats that must wait. Each limit is a sliding
log of send times. A send is logged when its answer arrives: Telegram counted it somewhere
between request and answer, so spacing from the answer can never look too fast to Telegram,
however slow the network was.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter


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

    @classmethod
    def rate(cls, per: float, seconds: float) -> Window:
        """`per` events every `seconds`, e.g. rate(20, 60) or rate(0.5, 1)."""
        capacity = max(1, math.floor(per))
        return cls(capacity, seconds * capacity / per)

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 if it fits now)."""
        while self.events and self.events[0] <= now - self.span:
            self.events.popleft()
        if len(self.events) < self.capacity:
            return 0.0
        return self.events[0] + self.span - now

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
            elif not any(window.events for window in windows):
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
