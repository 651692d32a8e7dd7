"""Every Bot API call of the bot passes here: sends wait for their place, 429s are honoured.

python-telegram-bot calls `process_request` around each request (ApplicationBuilder.rate_limiter),
direct replies and the outbox sender's notices alike, so this is the one place where the bot
keeps Telegram's limits (the numbers live in bot/telegram/flood.py's FloodLimits, one per bot):

- a message into a chat (send*, forward*, copy*) waits for a place in its chat's window and the
  overall one; a flooded chat waits for its own window while other chats go first;
- a 429 on a send pauses every send for retry_after (Telegram's flood control is bot-wide); a
  429 on anything else (answering a press, an edit) holds back only that call;
- a refused call is tried again after retry_after, up to `max_retries` times, unless its caller
  retries on its own (the outbox sender does, through its rows: `retries(0)`). A direct reply
  that still cannot go is logged and counted (yishi_replies_lost_total) and its RetryAfter
  reaches the error handler, which tells no one: there is no one it could be sent to either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot import metrics
from bot.telegram.flood import FloodLimits, retry_after_seconds

logger = logging.getLogger(__name__)

_RETRIES: ContextVar[int | None] = ContextVar("yishi_flood_retries", default=None)
_FORWARDING = frozenset({"forwardmessage", "forwardmessages", "copymessage", "copymessages"})


def is_send(endpoint: str) -> bool:
    """A call that puts a message into a chat: the ones Telegram's flood limits count."""
    lowered = endpoint.lower()
    return (lowered.startswith("send") and lowered != "sendchataction") or lowered in _FORWARDING


@contextmanager
def retries(count: int) -> Iterator[None]:
    """Calls made inside (in this task) are tried at most `count` more times after a 429."""
    token = _RETRIES.set(count)
    try:
        yield
    finally:
        _RETRIES.reset(token)


@dataclass
class LimiterStats:
    waited: int = 0  # sends that had to wait for a place
    rate_limited: int = 0  # 429s received
    retried: int = 0  # calls made again after a 429's retry_after
    lost: int = 0  # direct calls given up after their retries


class FloodLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        limits: FloodLimits,
        *,
        max_retries: int = 3,
        longest_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.max_retries = max_retries
        self.longest_wait = longest_wait  # a longer retry_after is not waited for in a handler
        self.stats = LimiterStats()
        self._sleep = sleep

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data) if is_send(endpoint) else None
        given = _RETRIES.get()
        direct = given is None  # a reply made by a handler, not the outbox sender
        budget = self.max_retries if given is None else given
        attempt = 0
        while True:
            if chat_id is not None and await self.limits.acquire(chat_id, self._sleep) > 0:
                self.stats.waited += 1
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                if chat_id is not None:
                    self.limits.settle(chat_id, sent=False)
                delay = retry_after_seconds(error)
                self.stats.rate_limited += 1
                if chat_id is not None:
                    self.limits.pause(delay)
                if attempt >= budget or delay > self.longest_wait:
                    if direct:
                        self.stats.lost += 1
                        metrics.REPLIES_LOST.inc()
                        logger.warning("%s to chat %s given up after 429s", endpoint, chat_id)
                    raise
                attempt += 1
                self.stats.retried += 1
                metrics.REPLIES_RETRIED.inc()
                logger.info("%s refused with 429: trying again in %.1f s", endpoint, delay)
                if chat_id is None:  # a send waits in acquire(), with every other send
                    await self._sleep(delay)
            except BaseException:
                if chat_id is not None:
                    self.limits.settle(chat_id)
                raise
            else:
                if chat_id is not None:
                    self.limits.settle(chat_id)
                return result


def _chat_id(data: dict[str, Any]) -> int | None:
    try:
        return int(data["chat_id"])
    except (KeyError, TypeError, ValueError):  # none, or an @channel name: not limited here
        return None
