"""The one sender: everything that is not a direct reply reaches Telegram from here, and so
do the replies that must not be lost (a handler queues them with its change and has them sent
right after its commit: deliver_now).

It claims the due notices at the head of each chat's queue (storage/outbox.py), sends them one
at a time under Telegram's flood limits (bot/telegram/flood.py) and records each outcome in its own
short transaction right after the send. So a crash loses nothing and re-sends at most the one
notice in flight (claimed, unattempted notices come back when their lease runs out): sending
one at a time is what makes that promise, and it keeps up with 30 messages/s.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot import metrics
from bot.telegram.flood import FloodLimits, retry_after_seconds
from bot.telegram.flood_limiter import FloodLimiter, retries
from bot.telegram.limits import CAPTION_MAX, TEXT_MAX, cut_text, split_text, utf16_len
from bot.telegram.media import MissingMedia, telegram_file
from handlers.notices import HEAVY, Notice, UnknownNotice, render_notice
from storage import outbox
from storage.cases import delivery_failures
from storage.cases.delivery_failures import Reason
from storage.db import session_scope
from storage.models import OutboxMessage, utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class SenderStats:
    sent: int = 0
    rate_limited: int = 0  # 429s received
    retried: int = 0  # 5xx, timeouts, network trouble
    failed: int = 0  # refused (400), unrenderable, or out of attempts
    unreachable: int = 0  # 403: the person blocked the bot
    skipped_unreachable: int = 0  # closed without a call: known to have blocked the bot


class Sender:
    def __init__(
        self,
        bot: Bot,
        engine: AsyncEngine,
        *,
        overall_per_second: float = 30,
        per_private_chat_per_second: float = 1,
        per_group_per_minute: float = 20,
        batch: int = 100,
        lease: timedelta = timedelta(seconds=60),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll_interval: float = 0.2,
        backoff: float = 1.0,
        max_backoff: float = 300.0,
    ) -> None:
        self.bot = bot
        self.engine = engine
        # A bot whose every call passes a FloodLimiter (the running bot's) shares its limits
        # with the direct replies: then the limiter waits and logs, and the rates given here
        # do not apply. A bare Bot gets limits of its own, kept here.
        limiter = getattr(bot, "rate_limiter", None)
        self._shared = isinstance(limiter, FloodLimiter)
        self.limits = (
            limiter.limits
            if isinstance(limiter, FloodLimiter)
            else FloodLimits(
                overall_per_second=overall_per_second,
                per_chat_per_second=per_private_chat_per_second,
                per_group_per_minute=per_group_per_minute,
                clock=clock,
            )
        )
        self.batch = batch
        self.lease = lease
        self.poll_interval = poll_interval
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.stats = SenderStats()
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._claimed = 0

    def wake(self) -> None:
        """Look at the outbox now (call after a transaction that queued something)."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        """Running and not stopping: what /healthz reports."""
        running = self._task is not None and not self._task.done()
        return running and not (self._stopping is not None and self._stopping.is_set())

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            # Set before the task first runs, so an early stop() is seen.
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self.run(self._stopping), name="outbox-sender")
        return self._task

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the notice in flight finish, give back the rest of the batch, then return."""
        task, self._task = self._task, None
        if task is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until `stop` is set: at once while there is work, else every poll interval."""
        self._stopping = stop
        logger.info("outbox sender running")
        while not stop.is_set():
            self._wake.clear()
            try:
                sent = await self.drain_once()
            except Exception:
                logger.exception("outbox round failed; trying again shortly")
                sent = self._claimed = 0
            # A full batch, or sends that uncovered the next notice of those chats: go again.
            if stop.is_set() or sent or self._claimed >= self.batch:
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        logger.info("outbox sender stopped")

    async def drain_once(self) -> int:
        """Claim one batch and send what the limits allow now; returns how many were sent."""
        self._claimed = 0
        if self.limits.paused_for() > 0:
            return 0
        started = self.limits.clock()
        async with session_scope(self.engine) as session:
            claimed = await outbox.claim_due(
                session,
                now=utcnow(),
                limit=self.batch,
                lease=self.lease,
                skip_chats=[str(chat) for chat in self.limits.busy_chats()],
            )
            due = await outbox.skip_unreachable(session, messages=claimed)
        self._claimed = len(claimed)
        self.stats.skipped_unreachable += len(claimed) - len(due)
        sent = 0
        postponed: list[OutboxMessage] = []
        for index, message in enumerate(due):
            if self._halt(started):
                postponed.extend(due[index:])
                break
            if self.limits.chat_wait(int(message.address)) > 0:
                postponed.append(message)  # its chat waits; the others go on
                continue
            while (wait := self.limits.overall_wait()) > 0:
                await self._sleep(wait)
            sent += await self._deliver(message)
        if postponed:
            await self._record(outbox.release, message_ids=[m.id for m in postponed if m.id])
        return sent

    def _halt(self, started: float) -> bool:
        # Past half the lease another sender may soon claim these rows: hand them back.
        late = self.limits.clock() - started > self.lease.total_seconds() / 2
        stopping = self._stopping is not None and self._stopping.is_set()
        return late or stopping or self.limits.paused_for() > 0

    async def deliver_now(self, message: OutboxMessage) -> bool:
        """Send a reply its handler queued, leased, in the update's transaction (handlers/
        conversation.py: queue_reply), right after the commit; if this fails or the process dies
        first, the row is still there: a sender takes it once its retry or lease is due."""
        return await self._deliver(message)

    async def _deliver(self, message: OutboxMessage) -> bool:
        assert message.id is not None
        try:
            if message.kind in HEAVY:
                notice = await asyncio.to_thread(
                    render_notice, message.kind, message.params, message.lang
                )
            else:
                notice = render_notice(message.kind, message.params, message.lang)
            picture = await self._picture(notice)
        except Exception as error:  # an unknown kind or a renderer's bug: retrying cannot help
            if not isinstance(error, UnknownNotice | MissingMedia):
                logger.exception("outbox %d: rendering %s failed", message.id, message.kind)
            metrics.SEND_ERRORS.labels("render").inc()
            await self._give_up(message, f"cannot render {message.kind}: {error!r}")
            return False
        try:
            with retries(0):  # a refused notice is retried through its row, not in the limiter
                sent_message_id = await self._send(int(message.address), notice, picture)
        except Exception as error:
            await self._not_sent(message, error)
            return False
        finally:
            if not self._shared:
                self.limits.record(int(message.address))
        await self._record(outbox.mark_sent, message_id=message.id, sent_message_id=sent_message_id)
        self.stats.sent += 1
        metrics.SENT.inc()
        return True

    async def _picture(self, notice: Notice) -> str | bytes | InputFile | None:
        """The notice's picture as Telegram takes it: a kept file by its Telegram ref or its
        stored bytes (a photo from another channel), or the bytes drawn for it."""
        if notice.photo is not None:
            return await telegram_file(self.engine, notice.photo)
        return notice.image

    async def _send(
        self, chat_id: int, notice: Notice, picture: str | bytes | InputFile | None
    ) -> int:
        """Send (or edit) one notice within Telegram's size limits (bot/telegram/limits.py);
        the id of the message that now shows it (its last part, the one with the buttons).

        A text over 4,096 is sent as several messages cut at line breaks; a photo whose words
        are over the 1,024 of a caption goes first without them, the words after it. The notice
        is recorded as sent only after its last part, so a crash between two parts (or a later
        part that must be retried) sends the first ones again: the one notice in flight.
        """
        rows = [[InlineKeyboardButton(t, callback_data=d) for t, d in r] for r in notice.buttons]
        markup = InlineKeyboardMarkup(rows) if rows else None
        if notice.edit_message_id is not None:
            return await self._edit(chat_id, notice, markup)
        sent: Message
        quote = _quote(notice.reply_to_message_id)
        if picture is not None:
            if utf16_len(notice.text) <= CAPTION_MAX:
                sent = await self.bot.send_photo(
                    chat_id,
                    picture,
                    caption=notice.text,
                    reply_markup=markup,
                    reply_parameters=quote,
                )
                return sent.message_id
            await self.bot.send_photo(chat_id, picture, reply_parameters=quote)
            await self._next_part(chat_id)
            quote = None  # the first part quotes; the rest follow it
        *first, last = split_text(notice.text, TEXT_MAX)
        for part in first:
            await self.bot.send_message(chat_id, part, reply_parameters=quote)
            await self._next_part(chat_id)
            quote = None
        sent = await self.bot.send_message(
            chat_id, last, reply_markup=markup, reply_parameters=quote
        )
        return sent.message_id

    async def _next_part(self, chat_id: int) -> None:
        """Between two parts of one notice: count the part just sent, keep to the limits (with
        the shared limiter each send waits for its place itself: nothing to do here)."""
        if self._shared:
            return
        self.limits.record(chat_id)
        await self.limits.wait_turn(chat_id, self._sleep)

    async def _edit(self, chat_id: int, notice: Notice, markup: InlineKeyboardMarkup | None) -> int:
        assert notice.edit_message_id is not None
        try:
            # An edit cannot become two messages: what does not fit is cut, with "…".
            await self.bot.edit_message_text(
                cut_text(notice.text, TEXT_MAX),
                chat_id=chat_id,
                message_id=notice.edit_message_id,
                reply_markup=markup,
            )
        except BadRequest as error:
            # A later edit that says what the message already says is done, not failed.
            if "not modified" not in str(error).lower():
                raise
        return notice.edit_message_id

    async def _not_sent(self, message: OutboxMessage, error: Exception) -> None:
        assert message.id is not None
        reason = f"{type(error).__name__}: {error}"
        if isinstance(error, RetryAfter):
            metrics.SEND_ERRORS.labels("429").inc()
            # Flood control is bot-wide: everything waits, and this notice keeps its attempts.
            delay = retry_after_seconds(error)
            self.limits.pause(delay)
            self.stats.rate_limited += 1
            logger.warning("Telegram said 429: pausing every send for %.1f s", delay)
            await self._retry(message, delay, reason, counts=False)
        elif isinstance(error, Forbidden):
            metrics.SEND_ERRORS.labels("403").inc()
            closed = await self._record(
                outbox.mark_unreachable, message_id=message.id, error=reason
            )
            self.stats.unreachable += 1
            logger.info(
                "chat %d blocked the bot: %d notice(s) closed", int(message.address), closed
            )
        elif isinstance(error, BadRequest | ChatMigrated):
            code = "migrated" if isinstance(error, ChatMigrated) else "400"
            metrics.SEND_ERRORS.labels(code).inc()
            await self._give_up(message, reason, error)
        else:  # 5xx, timeouts, a dropped connection: likely to pass
            metrics.SEND_ERRORS.labels("5xx").inc()
            if not isinstance(error, TelegramError):
                logger.error("outbox %d: unexpected %s", message.id, reason, exc_info=error)
            delay = self.backoff * 2**message.attempts * random.uniform(1.0, 1.1)
            await self._retry(message, min(delay, self.max_backoff), reason, counts=True)

    async def _retry(self, message: OutboxMessage, delay: float, reason: str, counts: bool) -> None:
        assert message.id is not None
        status = await self._record(
            delivery_failures.retry_or_fail,
            message_id=message.id,
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            error=reason,
            counts=counts,
        )
        if status == outbox.Status.FAILED:
            self.stats.failed += 1
            logger.warning("outbox %d: giving up after %s", message.id, reason)
        elif counts:
            self.stats.retried += 1
            logger.info("outbox %d: %s; trying again in %.1f s", message.id, reason, delay)

    async def _give_up(
        self, message: OutboxMessage, reason: str, error: Exception | None = None
    ) -> None:
        """Mark the notice failed and, in the same transaction, tell the secretaries; `error`
        is Telegram's refusal (None: the notice could not be rendered)."""
        assert message.id is not None
        logger.warning("outbox %d to chat %d failed: %s", message.id, int(message.address), reason)
        why, detail = Reason.UNRENDERABLE, ""
        if isinstance(error, ChatMigrated):
            why = Reason.MOVED
        elif error is not None:
            why, detail = Reason.REFUSED, str(error)
        await self._record(
            delivery_failures.fail, message_id=message.id, error=reason, reason=why, detail=detail
        )
        self.stats.failed += 1

    async def _record(self, change: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
        async with session_scope(self.engine) as session:
            return await change(session, **kwargs)


def _quote(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)
