"""build_application: the python-telegram-bot Application with every handler registered, and
the scheduler that runs beside it in its event loop."""

from __future__ import annotations

import logging
import time

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings
from bot.runtime import RUNTIME_KEY, Runtime, runtime
from bot.telegram import adapter
from bot.telegram.flood import FloodLimits
from bot.telegram.flood_limiter import FloodLimiter
from bot.telegram.ordering import PerChatUpdateProcessor
from bot.telegram.sender import Sender
from bot.telegram.update_reading import ReadingBot
from handlers.person_limit import PersonLimit
from handlers.words.i18n import N_, translator
from scheduler.core import JobContext
from scheduler.plan import build_scheduler

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
COMMANDS = [
    ("report", N_("Report a problem")),
    ("mycases", N_("My cases")),
    ("case", N_("Show one case")),
    ("cancel", N_("Cancel the report I am writing")),
    ("lang", "中文 / English"),
    ("help", N_("Help")),
]


def file_url(api_url: str) -> str:
    """https://host/bot -> https://host/file/bot (how Bot API servers lay out downloads)."""
    base = api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def build_application(
    settings: Settings,
    engine: AsyncEngine,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    polling: bool = True,
) -> Application:
    """The bot, wired to the database; tests pass requests that reach the emulator.

    Without `polling` it has no Updater: updates arrive through the webhook
    (bot/telegram/webhook.py).
    """
    bot = ReadingBot(  # survives an update it cannot read (bot/telegram/update_reading.py)
        settings.require_token(),
        base_url=settings.telegram_api_url,
        base_file_url=file_url(settings.telegram_api_url),
        # A connection for every update in flight and the sender, and patience when Telegram
        # is slow: PTB's default gives up after 1 s without a free connection (bench/soak.py).
        request=request
        or HTTPXRequest(connection_pool_size=settings.concurrent_updates + 8, pool_timeout=10.0),
        get_updates_request=(updates_request or HTTPXRequest(read_timeout=40)) if polling else None,
        # One set of flood limits for the bot: direct replies and the outbox sender share it.
        rate_limiter=FloodLimiter(flood_limits(settings)),
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerChatUpdateProcessor(settings.concurrent_updates))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .job_queue(None)  # the scheduler is our own (scheduler/core.py)
    )
    if not polling:
        builder = builder.updater(None)
    app = builder.build()
    sender = Sender(app.bot, engine)
    person_limit = PersonLimit(settings.person_limit_messages, settings.person_limit_seconds)
    scheduler = build_scheduler(JobContext(engine=engine, settings=settings, wake=sender.wake))
    app.bot_data[RUNTIME_KEY] = Runtime(
        settings=settings,
        engine=engine,
        sender=sender,
        scheduler=scheduler,
        person_limit=person_limit,
    )
    adapter.register(app)
    return app


def flood_limits(settings: Settings) -> FloodLimits:
    return FloodLimits(
        overall_per_second=settings.send_per_second,
        per_chat_per_second=settings.send_per_chat_per_second,
        per_group_per_minute=settings.send_per_group_per_minute,
        clock=time.monotonic,
    )


async def _post_init(app: Application) -> None:
    await publish_commands(app)
    start_sending(app)
    start_scheduling(app)


async def _post_stop(app: Application) -> None:
    await stop_scheduling(app)
    await stop_sending(app)


def start_sending(app: Application) -> None:
    """The one place the outbox sender starts: once the bot is initialised and running."""
    sender = runtime(app.bot_data).sender
    if sender is not None:
        sender.start()


async def stop_sending(app: Application) -> None:
    """Finish the notice in flight; the rest stays queued for the next start."""
    sender = runtime(app.bot_data).sender
    if sender is not None:
        await sender.stop()


def start_scheduling(app: Application) -> None:
    """The one place the scheduler starts: in the bot's event loop, once the bot is running."""
    scheduler = runtime(app.bot_data).scheduler
    if scheduler is not None:
        scheduler.start()


async def stop_scheduling(app: Application, within: float = 10.0) -> None:
    """No job starts any more; one running has `within` seconds to finish, then is cancelled
    (its transaction rolls back, and the next run does its work)."""
    scheduler = runtime(app.bot_data).scheduler
    if scheduler is not None:
        await scheduler.stop(within)


async def publish_commands(app: Application) -> None:
    """The command menu in both languages (Chinese for everyone, English for en clients)."""
    for lang, language_code in (("zh", None), ("en", "en")):
        _ = translator(lang)
        commands = [BotCommand(name, _(description)) for name, description in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=language_code)
