"""The emulator's clock, and the sliding windows behind its rate limits.

One clock serves everything (tokens, the kf window, rate limits, media expiry, callback
timestamps): wall time plus an offset that tests move with `advance`, so "49 hours later" takes
no time and a bot reading the same clock sees the same hour.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Hashable


class Clock:
    """Seconds since the epoch, as the emulated WeCom sees them."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds


class Windows:
    """At most `limit` events per key within any `span` seconds (a sliding window)."""

    def __init__(self, clock: Clock, limit: int, span: float) -> None:
        self.clock = clock
        self.limit = limit
        self.span = span
        self._events: defaultdict[Hashable, deque[float]] = defaultdict(deque)
        self.refused = 0

    def _recent(self, key: Hashable) -> deque[float]:
        events = self._events[key]
        now = self.clock()
        while events and events[0] <= now - self.span:
            events.popleft()
        return events

    def full(self, key: Hashable) -> bool:
        """True (and counted as a refusal) if one more event for `key` would break the limit."""
        if len(self._recent(key)) >= self.limit:
            self.refused += 1
            return True
        return False

    def take(self, key: Hashable) -> None:
        self._recent(key).append(self.clock())
