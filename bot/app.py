"""build_application: the python-telegram-bot Application with every handler registered."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings
from bot.i18n import N_, translator
from bot.ordering import PerChatUpdateProcessor
from bot.outbox import Sender
from bot.runtime import RUNTIME_KEY, Runtime, runtime
from bot.update_reading import ReadingBot
from handlers import (
    admin,
    cases,
    desk,
    errors,
    export,
    feedback,
    group,
    inspect,
    meetings,
    profile,
    proposals,
    report,
    reports,
    staff,
    start,
    triage,
    whistle,
    whistle_results,
)
from scheduler import digests, meeting_cycle, whistle_delivery, whistles
from scheduler.deadlines import schedule_deadline_sweep
from scheduler.housekeeping import schedule_housekeeping
from scheduler.monthly_report import schedule_monthly_report

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

    Without `polling` it has no Updater: updates arrive through the webhook (bot/webhook.py).
    """
    bot = ReadingBot(  # survives an update it cannot read (bot/update_reading.py)
        settings.require_token(),
        base_url=settings.telegram_api_url,
        base_file_url=file_url(settings.telegram_api_url),
        # A connection for every update in flight and the sender, and patience when Telegram
        # is slow: PTB's default gives up after 1 s without a free connection (bench/soak.py).
        request=request
        or HTTPXRequest(connection_pool_size=settings.concurrent_updates + 8, pool_timeout=10.0),
        get_updates_request=(updates_request or HTTPXRequest(read_timeout=40)) if polling else None,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerChatUpdateProcessor(settings.concurrent_updates))
        .post_init(_post_init)
        .post_stop(_post_stop)
    )
    if not polling:
        builder = builder.updater(None)
    app = builder.build()
    sender = Sender(app.bot, engine)
    app.bot_data[RUNTIME_KEY] = Runtime(settings=settings, engine=engine, sender=sender)
    register_handlers(app)
    schedule_housekeeping(app)
    schedule_deadline_sweep(app)
    schedule_monthly_report(app)
    whistles.schedule(app)
    whistle_delivery.schedule(app)
    meeting_cycle.schedule(app)
    digests.schedule(app)
    return app


def register_handlers(app: Application) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start.start))
    app.add_handler(CommandHandler("help", start.help_))
    app.add_handler(CommandHandler("lang", start.lang))
    app.add_handler(CommandHandler("report", report.report))
    app.add_handler(CommandHandler("cancel", report.cancel, filters=private))
    app.add_handler(CommandHandler("mycases", cases.my_cases))
    app.add_handler(CommandHandler("case", cases.show_case))
    app.add_handler(CallbackQueryHandler(report.on_button, pattern=r"^d1:"))
    app.add_handler(CallbackQueryHandler(start.on_lang_button, pattern=r"^l1:"))
    app.add_handler(CallbackQueryHandler(cases.on_view_button, pattern=r"^c1:view:"))
    register_case_work(app)
    admin.register(app)
    profile.register(app)
    whistle.register(app)
    whistle_results.register(app)
    proposals.register(app)
    meetings.register(app)
    app.add_handler(CallbackQueryHandler(start.stale_button))
    app.add_handler(MessageHandler(private & filters.COMMAND, start.unknown_command))
    app.add_handler(MessageHandler(private, report.on_private_message))
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & ~filters.COMMAND, group.on_group_message)
    )
    app.add_error_handler(errors.on_error)


def register_case_work(app: Application) -> None:
    """Staff, mediators and secretaries working cases; reporters answering about theirs."""
    app.add_handler(CommandHandler("todo", staff.todo))
    app.add_handler(CommandHandler("note", staff.note))
    app.add_handler(CommandHandler("queue", triage.queue))
    app.add_handler(CommandHandler("overdue", triage.overdue))
    app.add_handler(
        CommandHandler(["assign", "recategorise", "reject", "duplicate"], triage.secretary_command)
    )
    app.add_handler(CommandHandler("dispute", desk.dispute))
    app.add_handler(CommandHandler("routes", desk.routes))
    app.add_handler(CommandHandler("export", export.export))
    app.add_handler(CommandHandler("stats", reports.stats))
    app.add_handler(CallbackQueryHandler(staff.on_button, pattern=r"^s1:"))
    app.add_handler(CallbackQueryHandler(feedback.on_button, pattern=r"^(r1|f1):"))
    app.add_handler(CommandHandler("inspect", inspect.inspect))
    app.add_handler(CommandHandler("rounds", inspect.rounds))
    app.add_handler(CallbackQueryHandler(inspect.on_button, pattern=r"^i1:"))


async def _post_init(app: Application) -> None:
    await publish_commands(app)
    start_sending(app)


async def _post_stop(app: Application) -> None:
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


async def publish_commands(app: Application) -> None:
    """The command menu in both languages (Chinese for everyone, English for en clients)."""
    for lang, language_code in (("zh", None), ("en", "en")):
        _ = translator(lang)
        commands = [BotCommand(name, _(description)) for name, description in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=language_code)
