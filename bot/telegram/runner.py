"""Running the bot: prepare the database, take updates (long polling or a webhook), stop well.

A stop (SIGTERM or Ctrl-C) closes the intake, lets the updates in flight finish, lets the
sender finish the notice in flight and hand the rest back to the queue, and stops the jobs,
all within STOP_WITHIN seconds; a second signal, or the deadline, ends the process at once.
Nothing is lost either way: every change is a committed transaction, a notice not yet sent is
still in the outbox, and an update not yet answered comes back from Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from contextlib import nullcontext
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.config import Settings, SettingsError, mask_token
from bot.runtime import runtime
from bot.serving import LOOPBACK_HOSTS, Intake, serving
from bot.telegram.app import ALLOWED_UPDATES, build_application, stop_scheduling, stop_sending
from bot.telegram.webhook import WebhookEndpoint
from bot.web import BotLink, build_web_app
from storage.cases.categories import seed_categories
from storage.cases.routing import seed_units_and_routes
from storage.db import create_engine, prepare_schema, session_scope
from storage.figures.stats_rollup import ensure_rollup

logger = logging.getLogger(__name__)

STOP_WITHIN = 10.0  # seconds from the first SIGTERM to the process's end, whatever happens
EXIT_FORCED = 1


async def prepare_database(settings: Settings) -> AsyncEngine:
    """The engine, with the schema created on an empty database and defaults seeded."""
    engine = create_engine(settings.database_url)
    await prepare_schema(engine)
    async with session_scope(engine) as session:
        added = await seed_categories(session)
        added += await seed_units_and_routes(session)
    if added:
        logger.info("seeded %d default categories, units and routes", added)
    # The figures' monthly tallies, built once (seconds at a million cases) here rather than
    # inside the first secretary's /stats.
    async with session_scope(engine) as session:
        await ensure_rollup(session, settings.tz)
    return engine


def webhook_path(url: str) -> str:
    """The path the webhook is served at: the path of its public URL."""
    parts = urlsplit(url)
    loopback = parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise SettingsError(f"--url {url!r}: Telegram sends webhooks only to https:// URLs")
    return parts.path or "/"


class Stopper:
    """The first SIGTERM/SIGINT asks for a graceful stop and starts the deadline; the second
    ends the process at once."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(signum, self.signal, signum)

    def signal(self, signum: int) -> None:
        if self.requested.is_set():
            self.force(f"second {signal.Signals(signum).name}")
            return
        logger.info("%s: stopping (at most %.0f s)", signal.Signals(signum).name, STOP_WITHIN)
        self.requested.set()
        self._loop.call_later(STOP_WITHIN, self.force, f"not stopped after {STOP_WITHIN:.0f} s")

    @staticmethod
    def force(why: str) -> None:
        logger.warning("%s: exiting now", why)
        logging.shutdown()
        sys.stderr.flush()
        os._exit(EXIT_FORCED)


async def run_bot(
    settings: Settings,
    *,
    webhook_url: str | None = None,
    listen: tuple[str, int] | None = None,
) -> None:
    """Long polling, or the webhook at `webhook_url`; /healthz and /metrics on `listen`."""
    if webhook_url and listen is None:
        raise SettingsError("webhook mode needs an address to listen on (--listen HOST:PORT)")
    secret = settings.require_webhook_secret() if webhook_url else ""
    path = webhook_path(webhook_url) if webhook_url else None
    stopper = Stopper()
    stopper.install()
    await check_token(settings)
    engine = await prepare_database(settings)
    app = build_application(settings, engine, polling=webhook_url is None)
    intake = Intake()
    link = BotLink(sender=runtime(app.bot_data).sender, intake=intake)
    if path is not None:
        link.webhook = (path, WebhookEndpoint(app, secret, intake).handle)
    try:
        async with app:
            await app.start()
            web = build_web_app(settings, engine, link)
            async with serving(web, *listen) if listen else nullcontext("") as url:
                if url:
                    logger.info("serving /healthz and /metrics on %s", url)
                await _take_updates(app, webhook_url, secret)
                if app.post_init:
                    await app.post_init(app)  # the command menu; the sender starts
                intake.open()
                logger.info("Yishi is running as @%s; stop with Ctrl-C", app.bot.username)
                await stopper.requested.wait()
                await stop_gracefully(app, intake)
    finally:
        await engine.dispose()


async def check_token(settings: Settings) -> None:
    """Ask Telegram who the bot is (getMe) before anything else is done: a token it refuses
    (401, or 404 for a malformed one) stops start-up with one line naming the variable, and so
    does a Bot API that cannot be reached (the other variable)."""
    try:
        async with Bot(settings.require_token(), base_url=settings.telegram_api_url):
            pass
    except InvalidToken:  # its message quotes the whole token: never show it
        raise SettingsError(
            f"YISHI_TELEGRAM_TOKEN {mask_token(settings.require_token())} was refused by "
            "Telegram: copy the bot's token from @BotFather again"
        ) from None
    except NetworkError as error:  # TimedOut too; its text never holds the token, its URL might
        raise SettingsError(
            f"YISHI_TELEGRAM_API_URL {settings.telegram_api_url} cannot be reached "
            f"({type(error).__name__}): check the address and the network"
        ) from None


async def _take_updates(app: Application, webhook_url: str | None, secret: str) -> None:
    if webhook_url:
        # Every instance sets the same webhook: the last one to start changes nothing.
        await app.bot.set_webhook(
            webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=40
        )
        logger.info("taking updates at %s", webhook_url)
        return
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=30, poll_interval=0)


async def stop_gracefully(app: Application, intake: Intake) -> None:
    logger.info("stopping: no new updates; finishing the ones in flight")
    intake.close()  # the webhook answers 503 (Telegram retries elsewhere); /healthz says so
    if app.updater is not None and app.updater.running:
        await app.updater.stop()  # confirms what was fetched; the rest stays with Telegram
    await intake.drained()
    await stop_scheduling(app, within=STOP_WITHIN)  # a job running finishes; no new one starts
    await stop_sending(app)  # the notice in flight goes out; the rest of its batch goes back
    await app.stop()  # polled updates still queued
    logger.info("stopped")
