"""Delivering pending updates to the bot's webhook the way Telegram does.

One POST per update, in update_id order, at most ``max_connections`` at a time, never two of
one chat at once; anything but a 2xx answer is retried later with the same body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from bot.serving import LOOPBACK_HOSTS

from .objects import JSONDict
from .updates import Queued

if TYPE_CHECKING:
    from .state import World

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in LOOPBACK_HOSTS


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the webhook pusher stopped", exc_info=task.exception())


class WebhookPusher:
    """The task that pushes updates while a webhook is set. Knobs are ``Emulator.webhook_*``."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.retry_delay = 0.2
        self.max_retry_delay = 5.0
        self.timeout = 60.0
        self.transport: httpx.AsyncBaseTransport | None = None
        self.deliveries: list[JSONDict] = []
        self._task: asyncio.Task[None] | None = None

    def _url(self) -> str | None:
        """Where to push now; None when nothing should be pushed."""
        url = self.world.webhook.get("url")
        # Without an injected transport the emulator only ever connects to this machine.
        if url and (self.transport is not None or is_loopback(url)):
            return str(url)
        return None

    def start(self) -> None:
        """Push from a task in the running loop (the app's), unless one is pushing already."""
        if self._url() is None:
            if self.world.webhook.get("url"):
                logger.info(
                    "webhook %s stored only: not loopback and no transport",
                    self.world.webhook["url"],
                )
            return
        if self._task is not None and not self._task.done():
            return
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name="emulator-webhook-push")
        self._task.add_done_callback(_report_crash)

    def stop_soon(self) -> None:
        """Cancel the pusher from any loop; updates in flight stay pending."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        # Threadsafe: deleteWebhook may run in another loop. RuntimeError: that loop is closed,
        # so the task can never run again anyway.
        with contextlib.suppress(RuntimeError):
            task.get_loop().call_soon_threadsafe(task.cancel)

    async def stop(self) -> None:
        """Cancel the pusher and, when it runs in this loop, wait until it has closed."""
        task = self._task
        self.stop_soon()
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            await asyncio.wait({task})

    async def _run(self) -> None:
        in_flight: dict[Queued, asyncio.Task[None]] = {}
        # As many kept-alive connections as requests in flight (httpx keeps 20): otherwise a
        # burst opens and closes a connection per update.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(transport=self.transport, limits=limits) as client:
            try:
                while self._url() is not None:
                    version = self.world.notifier.version
                    wait = self._schedule(client, in_flight)
                    await self.world.notifier.wait(version, wait)
            finally:
                for task in list(in_flight.values()):
                    task.cancel()
                if in_flight:
                    await asyncio.wait(list(in_flight.values()))

    def _schedule(self, client: httpx.AsyncClient, in_flight: dict[Queued, Any]) -> float:
        """Start every delivery allowed now; the seconds until the next retry falls due."""
        limit = int(self.world.webhook.get("max_connections", DEFAULT_MAX_CONNECTIONS))
        if len(in_flight) >= limit:  # most wake-ups in a burst: nothing can start
            return 3600.0  # a finished delivery wakes this again
        now = asyncio.get_running_loop().time()
        busy = {entry.chat for entry in in_flight}
        next_retry = math.inf
        for entry in self.world.updates.pending(self.world.allowed_updates):
            if entry in in_flight:
                continue
            if entry.chat is not None:
                if entry.chat in busy:
                    continue
                busy.add(entry.chat)  # the chat's later updates wait until this one got through
            if entry.retry_at > now:
                next_retry = min(next_retry, entry.retry_at - now)
                continue
            in_flight[entry] = asyncio.create_task(self._deliver(client, entry, in_flight))
            if len(in_flight) >= limit:
                break
        return min(next_retry, 3600.0)

    async def _deliver(
        self, client: httpx.AsyncClient, entry: Queued, in_flight: dict[Queued, Any]
    ) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            status, error = await self._post(client, entry.update)
            self.deliveries.append(
                {
                    "update_id": entry.update_id,
                    "status": status,
                    "error": error,
                    "seconds": loop.time() - started,
                }
            )
            if error is None:
                self.world.updates.remove(entry)
                return
            entry.attempts += 1
            backoff = self.retry_delay * 2 ** (entry.attempts - 1)
            entry.retry_at = loop.time() + min(backoff, self.max_retry_delay)
            self.world.webhook["last_error_date"] = int(time.time())
            self.world.webhook["last_error_message"] = error
            logger.info("webhook delivery of update %s failed: %s", entry.update_id, error)
        finally:
            in_flight.pop(entry, None)
            self.world.changed()  # wakes the scheduler: a slot and maybe a chat are free

    async def _post(
        self, client: httpx.AsyncClient, update: JSONDict
    ) -> tuple[int | None, str | None]:
        """POST one update; (HTTP status, Telegram's last_error_message or None if it worked)."""
        webhook = self.world.webhook
        headers = {"Content-Type": "application/json"}
        if webhook.get("secret_token"):
            headers[SECRET_HEADER] = str(webhook["secret_token"])
        body = json.dumps(update, ensure_ascii=False).encode()
        try:
            # asyncio.timeout as well: an in-process ASGI transport ignores httpx timeouts.
            async with asyncio.timeout(self.timeout):
                response = await client.post(
                    str(webhook["url"]), content=body, headers=headers, timeout=self.timeout
                )
        except (TimeoutError, httpx.TimeoutException):
            return None, "Read timeout expired"
        except httpx.ConnectError:
            return None, "Connection refused"
        except Exception as error:  # whatever broke, Telegram just retries later
            return None, f"{type(error).__name__}: {error}"
        if 200 <= response.status_code < 300:
            return response.status_code, None
        reason = f"{response.status_code} {response.reason_phrase}".strip()
        return response.status_code, f"Wrong response from the webhook: {reason}"


class WebhookMixin:
    """The part of ``Emulator`` that tunes and stops webhook delivery."""

    world: World

    @property
    def webhook_retry_delay(self) -> float:
        """Seconds before the first retry of a failed delivery; doubles up to the max."""
        return self.world.pusher.retry_delay

    @webhook_retry_delay.setter
    def webhook_retry_delay(self, value: float) -> None:
        self.world.pusher.retry_delay = value

    @property
    def webhook_max_retry_delay(self) -> float:
        return self.world.pusher.max_retry_delay

    @webhook_max_retry_delay.setter
    def webhook_max_retry_delay(self, value: float) -> None:
        self.world.pusher.max_retry_delay = value

    @property
    def webhook_timeout(self) -> float:
        """Seconds a webhook request may take before it counts as failed."""
        return self.world.pusher.timeout

    @webhook_timeout.setter
    def webhook_timeout(self, value: float) -> None:
        self.world.pusher.timeout = value

    @property
    def webhook_transport(self) -> httpx.AsyncBaseTransport | None:
        """None: the real network (loopback only); e.g. ``httpx.ASGITransport(app=...)``."""
        return self.world.pusher.transport

    @webhook_transport.setter
    def webhook_transport(self, value: httpx.AsyncBaseTransport | None) -> None:
        self.world.pusher.transport = value

    @property
    def webhook_deliveries(self) -> list[JSONDict]:
        """Every attempt: ``{update_id, status, error, seconds}`` in the order they ended."""
        return self.world.pusher.deliveries

    async def close(self) -> None:
        """Stop pushing to the webhook (the URL stays set; setWebhook starts again)."""
        await self.world.pusher.stop()
