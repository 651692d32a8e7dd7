"""`yishi sandbox`: the bot, the Bot API emulator and a web chat page, offline, in one process.

The emulator's web server (Bot API for the bot, control API and chat page for the browser)
listens on loopback unless told otherwise; the bot polls it with a fake token and never
reaches api.telegram.org. State lives in a SQLite file (default ./sandbox.db); the emulator's
chats are saved beside it (sandbox.chats.json) every few seconds and on stop, and loaded on
start, so a restart keeps both sides and ids keep growing. `--fresh` deletes both first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, load_settings, normalise_database_url
from bot.sandbox import demo_data
from bot.serving import LOOPBACK_HOSTS
from bot.telegram.app import ALLOWED_UPDATES, build_application, stop_scheduling, stop_sending
from bot.telegram.emulator import Emulator, serve_in_background, snapshot
from bot.telegram.runner import prepare_database
from storage import cases, outbox
from storage.db import SchemaOutOfDate, create_engine, migrate, session_scope
from storage.ledger import claim_run
from storage.models import utcnow
from storage.updates import last_update_id

logger = logging.getLogger(__name__)

TOKEN = "1000001:sandbox-not-a-real-token"  # a fake: only the emulator accepts it
BOT_USERNAME = "yishi_bot"
DEFAULT_DATABASE = "sqlite:///./sandbox.db"
DEFAULT_LISTEN = "127.0.0.1:8080"
AUTOSAVE_SECONDS = 2.0


class SandboxError(Exception):
    """Bad sandbox options: the message says which."""


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    database_url: str
    fresh: bool = False

    @property
    def sqlite_file(self) -> Path | None:
        url = normalise_database_url(self.database_url)
        prefix = "sqlite+aiosqlite:///"
        return Path(url[len(prefix) :]) if url.startswith(prefix) else None

    @property
    def chats_file(self) -> Path:
        db = self.sqlite_file
        return db.with_name(db.stem + ".chats.json") if db else Path("sandbox.chats.json")


def parse_listen(text: str) -> tuple[str, int]:
    """'127.0.0.1:8080', '0.0.0.0:8080', '[::1]:8080' or ':8080' -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SandboxError(f"--listen {text!r}: expected HOST:PORT such as 127.0.0.1:8080")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def options(listen: str, database_url: str | None, fresh: bool) -> Options:
    host, port = parse_listen(listen)
    try:
        url = normalise_database_url(database_url or DEFAULT_DATABASE)
    except ValueError as error:
        raise SandboxError(f"--database: {error}") from None
    chosen = Options(host=host, port=port, database_url=url, fresh=fresh)
    if fresh and chosen.sqlite_file is None:
        raise SandboxError("--fresh deletes a SQLite file; drop other databases yourself")
    return chosen


def forget(chosen: Options) -> None:
    """--fresh: delete the database file (with its journal) and the saved chats."""
    db = chosen.sqlite_file
    assert db is not None
    for path in (
        db,
        Path(f"{db}-wal"),
        Path(f"{db}-shm"),
        Path(f"{db}-journal"),
        chosen.chats_file,
    ):
        path.unlink(missing_ok=True)


def build_emulator() -> Emulator:
    """The emulated Telegram with the demo estate's people and group."""
    emu = Emulator(token=TOKEN, bot_username=BOT_USERNAME, bot_first_name="议事 Yishi")
    for p in demo_data.PERSONAS:
        emu.add_user(
            p.user_id,
            p.first_name,
            last_name=p.last_name,
            username=p.username,
            language_code=p.language_code,
        )
    members = [p.user_id for p in demo_data.PERSONAS]
    secretary = demo_data.BY_KEY["zhao"].user_id
    emu.add_group(
        demo_data.GROUP_ID, demo_data.GROUP_TITLE, member_ids=members, admin_ids=[secretary]
    )
    emu.page_info = {**demo_data.page_info(), "ready": False}
    return emu


def bot_base(url: str, host: str) -> str:
    """Where the bot reaches the emulator: loopback even when listening on every address."""
    if host in ("0.0.0.0", ""):
        return url.replace("://0.0.0.0:", "://127.0.0.1:", 1)
    if host == "::":
        return url.replace("://[::]:", "://[::1]:", 1)
    return url


def sandbox_settings(api_base: str, database_url: str) -> Settings:
    """Settings forced to the emulator: the token is fake and the API URL is local."""
    return load_settings(
        telegram_token=TOKEN,
        telegram_api_url=f"{api_base}/bot",
        database_url=database_url,
        admins=frozenset(),
        bot_username=BOT_USERNAME,
    )


async def prepare(settings: Settings) -> int:
    """Schema (migrated if older), defaults, and the demo estate on first start."""
    from bot.sandbox.seed import seed_demo

    try:
        engine = await prepare_database(settings)
    except SchemaOutOfDate:
        engine = create_engine(settings.database_url)
        await migrate(engine)
        await engine.dispose()
        engine = await prepare_database(settings)
    try:
        async with session_scope(engine) as session:
            if not await claim_run(session, job="sandbox-demo", period="v1"):
                return 0
            return await seed_demo(session, now=utcnow(), tz=settings.tz)
    finally:
        await engine.dispose()


async def keep_ids_growing(emu: Emulator, settings: Settings) -> None:
    """Update and message ids above any the bot has seen, even if the chats file was lost."""
    engine = create_engine(settings.database_url)
    try:
        async with session_scope(engine) as s:
            top_update = await last_update_id(s)
            filed = await cases.last_source_messages(s)
            sent = await outbox.last_sent_messages(s)
            per_chat = [*filed.items(), *((int(chat), top) for chat, top in sent.items())]
    finally:
        await engine.dispose()
    world = emu.world
    world.updates.next_update_id = max(world.updates.next_update_id, int(top_update) + 1)
    for chat_id, top in per_chat:
        if chat_id in world.chats and top is not None:
            record = world.chats[chat_id]
            record.next_message_id = max(record.next_message_id, int(top) + 1)


async def autosave(emu: Emulator, path: Path) -> None:
    """Save the chats whenever they changed, every couple of seconds."""
    saved = None
    while True:
        await asyncio.sleep(AUTOSAVE_SECONDS)
        mark = (emu.world.revision, emu.world.updates.next_update_id)
        if mark != saved:
            text = json.dumps(snapshot.dump_world(emu.world), ensure_ascii=False)
            await asyncio.to_thread(snapshot.write_text, path, text)
            saved = mark


def announce(url: str, host: str) -> None:
    print(f"Yishi sandbox is ready at {url}/  (Ctrl-C stops it)", flush=True)
    if host not in LOOPBACK_HOSTS:
        print(f"note: listening on {host}: other machines can reach this page", flush=True)


async def run_sandbox(
    chosen: Options,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str, Settings], None] | None = None,
    handle_signals: bool = True,
) -> None:
    """Serve the page, run the bot against the emulator, until SIGINT/SIGTERM or `stop`."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM) if handle_signals else ():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    if chosen.fresh:
        forget(chosen)
    emu = build_emulator()
    if snapshot.load(emu.world, chosen.chats_file):
        logger.info("chats of the last run loaded from %s", chosen.chats_file)
    async with serve_in_background(emu, chosen.host, chosen.port) as url:
        settings = sandbox_settings(bot_base(url, chosen.host), chosen.database_url)
        seeded = await prepare(settings)
        if seeded:
            logger.info("demo estate seeded: %d cases", seeded)
        await keep_ids_growing(emu, settings)
        engine = create_engine(settings.database_url)
        app = build_application(settings, engine)
        saver: asyncio.Task[None] | None = None
        try:
            async with app:
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES, timeout=10, poll_interval=0.0
                )
                if app.post_init:
                    await app.post_init(app)
                emu.page_info["ready"] = True
                saver = asyncio.create_task(autosave(emu, chosen.chats_file), name="autosave")
                announce(bot_base(url, chosen.host), chosen.host)
                if on_ready:
                    on_ready(url, settings)
                await stop.wait()
                logger.info("stopping the sandbox")
                await stop_scheduling(app)
                await stop_sending(app)
                await app.updater.stop()
                await app.stop()
        finally:
            if saver:
                saver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await saver
            snapshot.save(emu.world, chosen.chats_file)
            await engine.dispose()


def main(listen: str, database_url: str | None, fresh: bool) -> int:
    """Entry point for `yishi sandbox`; returns the exit code."""
    try:
        chosen = options(listen, database_url, fresh)
    except SandboxError as error:
        print(f"yishi sandbox: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_sandbox(chosen))
    except OSError as error:  # the port is taken, most likely
        print(f"yishi sandbox: cannot listen on {listen}: {error}", file=sys.stderr)
        return 1
    return 0
