"""Running the bot: prepare the database, then poll until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import ALLOWED_UPDATES, build_application, stop_sending
from bot.config import Settings
from storage.categories import seed_categories
from storage.db import create_engine, prepare_schema, session_scope
from storage.routing import seed_units_and_routes
from storage.stats_rollup import ensure_rollup

logger = logging.getLogger(__name__)


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


async def run_polling(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Long polling until SIGINT/SIGTERM (or `stop` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    engine = await prepare_database(settings)
    app = build_application(settings, engine)
    try:
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=30, poll_interval=0.0
            )
            logger.info("Yishi is running as @%s; stop with Ctrl-C", app.bot.username)
            if app.post_init:
                await app.post_init(app)
            await stop.wait()
            logger.info("stopping")
            await stop_sending(app)  # first: nothing new goes out while the rest winds down
            await app.updater.stop()
            await app.stop()
    finally:
        await engine.dispose()
