"""Benchmark: the outbox sender draining a broadcast under Telegram's flood limits.

Queues one notice to each of N different private chats in a fresh database, then runs the
Sender against the emulator over loopback HTTP with the emulator's flood control on (an
overall limit and 1/s per chat, answering 429 when exceeded). Prints the achieved messages per
second, its ratio to the limit (target >= 0.9), 429s received, notices lost and duplicated
(targets 0 and 0) and the elapsed time.

    python bench/outbox.py                           # 5,000 notices at 30/s (about 170 s)
    python bench/outbox.py --notices 1000 --limit 30
    python bench/outbox.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Opt in to timedelta retry_after, so PTB's own RetryAfter does not print a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bench.harness import empty_schema  # noqa: E402
from bot.config import normalise_database_url  # noqa: E402
from bot.telegram.emulator import Emulator, serve_in_background  # noqa: E402
from bot.telegram.sender import Sender  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import create_engine, session_scope  # noqa: E402
from storage.models import Identity, Resident  # noqa: E402

TOKEN = "123456:BENCH"
FIRST_USER = 200_000


async def _fresh_database(url: str | None, tmp: str) -> AsyncEngine:
    """A new SQLite file in `tmp`, or the emptied PostgreSQL database at `url`, migrated."""
    engine = create_engine(
        normalise_database_url(url) if url else f"sqlite+aiosqlite:///{tmp}/outbox.db"
    )
    await empty_schema(engine, defaults=False)
    return engine


async def _queue(engine: AsyncEngine, chats: range) -> None:
    async with session_scope(engine) as session:
        for chat in chats:
            person = Resident(external_id=chat)
            session.add(person)
            await session.flush()
            assert person.id is not None
            session.add(Identity(resident_id=person.id, channel="telegram", external_id=str(chat)))
            await outbox.enqueue(
                session,
                to=person,  # read for its identity, where the outbox reaches it
                kind="text",
                params={"text": f"停水通知 {chat}"},
                dedup_key=f"bench:{chat}",
            )


async def _drain(sender: Sender, engine: AsyncEngine) -> float:
    """Seconds from start until nothing is pending."""
    started = time.perf_counter()
    sender.start()
    try:
        while True:
            await asyncio.sleep(0.25)
            async with session_scope(engine) as session:
                if not (await outbox.backlog(session))[outbox.Status.PENDING]:
                    return time.perf_counter() - started
    finally:
        await sender.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=5000)
    parser.add_argument("--limit", type=float, default=30.0, help="messages/s, both sides")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    chats = range(FIRST_USER, FIRST_USER + args.notices)
    emu = Emulator(token=TOKEN, bot_username="yishi_bot", bot_first_name="Yishi")
    for chat in chats:
        emu.add_user(chat, f"居民{chat}", language_code="zh-hans")
    emu.set_rate_limit(per_chat_per_second=1, overall_per_second=args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        engine = await _fresh_database(args.database_url, tmp)
        try:
            await _queue(engine, chats)
            sender, elapsed, backlog = await deliver_all(emu, engine, limit=args.limit)
        finally:
            await engine.dispose()

    delivered = Counter(m.get("text") for chat in chats for m in emu.bot_messages(chat))
    expected = {f"停水通知 {chat}" for chat in chats}
    lost = len(expected - set(delivered))
    duplicated = sum(count - 1 for count in delivered.values())
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"outbox benchmark: {args.notices} notices to {args.notices} private chats, {backend}")
    print_delivery(
        limit=args.limit, sent=sum(delivered.values()), elapsed=elapsed, sender=sender, emu=emu,
        lost=lost, duplicated=duplicated, backlog=backlog, detail="",
    )  # fmt: skip


async def deliver_all(
    emu: Emulator, engine: AsyncEngine, *, limit: float
) -> tuple[Sender, float, dict[str, int]]:
    """Serve the emulator on loopback and let one sender drain the outbox through it: the
    sender (for its stats), the seconds it took, and the outbox's counts afterwards."""
    async with serve_in_background(emu) as url:
        bot = Bot(
            TOKEN,
            base_url=f"{url}/bot",
            base_file_url=f"{url}/file/bot",
            request=HTTPXRequest(connection_pool_size=8),
        )
        async with bot:
            sender = Sender(bot, engine, overall_per_second=limit)
            elapsed = await _drain(sender, engine)
    async with session_scope(engine) as session:
        return sender, elapsed, await outbox.backlog(session)


def print_delivery(
    *,
    limit: float,
    sent: int,
    elapsed: float,
    sender: Sender,
    emu: Emulator,
    lost: int,
    duplicated: int,
    backlog: dict[str, int],
    detail: str,
) -> None:
    """The figures every delivery benchmark reports (this one and bench/whistle.py)."""
    rate = sent / elapsed
    print(f"limit (emulator and sender): {limit:g} messages/s, 1/s per chat")
    print(f"delivered: {sent} in {elapsed:.1f} s{detail}")
    print(f"achieved: {rate:.2f} messages/s; ratio achieved / limit: {rate / limit:.3f}")
    print(f"target ratio >= 0.9; 429s received: {sender.stats.rate_limited}")
    print(f"sendMessage calls: {len(emu.calls_of('sendMessage'))}")
    print(f"lost: {lost}; duplicated: {duplicated} (targets 0 and 0)")
    print(f"outbox afterwards: {backlog}")


if __name__ == "__main__":
    asyncio.run(main())
