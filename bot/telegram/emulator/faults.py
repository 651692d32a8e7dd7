"""Injected trouble: one-off errors, blocked users, slow answers and flood control."""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from dataclasses import dataclass

from .errors import ApiError, forbidden, too_many_requests

logger = logging.getLogger(__name__)

# Methods that put a message into a chat: flood control and blocking apply to these.
SENDING_METHODS = frozenset({"forwardmessage", "forwardmessages", "copymessage", "copymessages"})


def is_sending(method: str) -> bool:
    method = method.lower()
    return (method.startswith("send") and method != "sendchataction") or method in SENDING_METHODS


@dataclass(frozen=True)
class FloodViolation:
    """A call that came before the retry_after of an earlier 429 had passed."""

    method: str
    chat_id: int | None
    early_by: float  # seconds too soon


# What a 429 holds back until its retry_after has passed: every send of the bot ("all"), the
# sends to one chat ("chat", id), or, for a method that is not a send, that call again.
_Scope = tuple[object, ...]


@dataclass
class _FailRule:
    method: str
    error: ApiError
    times: int
    chat_id: int | None


class _Window:
    """At most ``rate`` events per second, measured over a window of ``capacity`` events."""

    def __init__(self, rate: float) -> None:
        self.capacity = max(1, math.floor(rate))
        self.span = self.capacity / rate
        self.events: collections.deque[float] = collections.deque()

    def wait_needed(self, moment: float) -> float:
        while self.events and self.events[0] <= moment - self.span:
            self.events.popleft()
        if len(self.events) < self.capacity:
            return 0.0
        return self.events[0] + self.span - moment


class Faults:
    """All injected faults. ``check`` raises the ApiError a call should answer with, if any."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every injected fault."""
        self._rules: list[_FailRule] = []
        self.blocked: set[int] = set()
        self.delays: dict[str, float] = {}
        self.per_chat_rate: float | None = None
        self.overall_rate: float | None = None
        self._chat_windows: dict[int, _Window] = {}
        self._overall_window: _Window | None = None
        self._holds: dict[_Scope, float] = {}
        self.violations: list[FloodViolation] = []
        self.answered_429 = 0  # injected or by flood control

    def fail_next(
        self, method: str, error: ApiError, *, times: int = 1, chat_id: int | None = None
    ) -> None:
        self._rules.append(_FailRule(method.lower(), error, times, chat_id))

    def set_delay(self, method: str, seconds: float) -> None:
        if seconds > 0:
            self.delays[method.lower()] = seconds
        else:
            self.delays.pop(method.lower(), None)

    def set_rate_limit(
        self, per_chat_per_second: float | None, overall_per_second: float | None
    ) -> None:
        for rate in (per_chat_per_second, overall_per_second):
            if rate is not None and rate <= 0:
                raise ValueError("rates must be positive (or None for no limit)")
        self.per_chat_rate = per_chat_per_second
        self.overall_rate = overall_per_second
        self._chat_windows.clear()
        self._overall_window = _Window(overall_per_second) if overall_per_second else None

    async def delay(self, method: str) -> None:
        seconds = self.delays.get(method.lower())
        if seconds:
            await asyncio.sleep(seconds)

    def check(self, method: str, chat_id: int | None) -> None:
        """Raise the error this call should get from injected faults, or return."""
        lowered = method.lower()
        self._note_early(method, chat_id)
        for rule in self._rules:
            if rule.method == lowered and rule.chat_id in (None, chat_id):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                logger.debug("injected %s for %s", rule.error.code, method)
                if rule.error.code == 429:
                    scope = ("chat", chat_id) if rule.chat_id is not None else ("all",)
                    self._hold(
                        scope if is_sending(lowered) else ("call", lowered, chat_id), rule.error
                    )
                raise rule.error
        if chat_id is None or not (is_sending(lowered) or lowered == "sendchataction"):
            return
        if chat_id in self.blocked:
            raise forbidden("bot was blocked by the user")
        if is_sending(lowered):
            self._flood_control(chat_id)

    def _flood_control(self, chat_id: int) -> None:
        moment = time.monotonic()
        windows: list[_Window] = []
        if self.per_chat_rate:
            windows.append(self._chat_windows.setdefault(chat_id, _Window(self.per_chat_rate)))
        if self._overall_window is not None:
            windows.append(self._overall_window)
        waits = [(w.wait_needed(moment), w is self._overall_window) for w in windows]
        wait, overall = max(waits, default=(0.0, False))
        if wait > 0:
            error = too_many_requests(max(1, math.ceil(wait)))
            self._hold(("all",) if overall else ("chat", chat_id), error)
            raise error
        for window in windows:
            window.events.append(moment)

    def _hold(self, scope: _Scope, error: ApiError) -> None:
        """Remember a 429's retry_after, to notice calls that do not wait for it."""
        self.answered_429 += 1
        retry_after = float((error.parameters or {}).get("retry_after") or 0)
        until = time.monotonic() + retry_after
        self._holds[scope] = max(until, self._holds.get(scope, 0.0))

    def _note_early(self, method: str, chat_id: int | None) -> None:
        if not self._holds:
            return
        moment = time.monotonic()
        self._holds = {scope: until for scope, until in self._holds.items() if until > moment}
        scopes: list[_Scope] = [("call", method.lower(), chat_id)]
        if is_sending(method):
            scopes += [("all",), ("chat", chat_id)]
        early = max((self._holds.get(scope, 0.0) - moment for scope in scopes), default=0.0)
        if early > 0:
            logger.warning("%s to chat %s came %.2f s before retry_after", method, chat_id, early)
            self.violations.append(FloodViolation(method, chat_id, early))
