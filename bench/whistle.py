"""Benchmark: a whistle to 10,000 subscribers through the real Sender and the emulator's limits.

Registers N subscribers in a fresh database, blows a whistle to them (the whistle's storage
queues one delivery per subscriber in the outbox, with answer buttons), then drains the outbox
with the one Sender against the emulator over loopback HTTP, with the emulator's flood control
on (an overall limit and 1/s per chat, answering 429 when exceeded). The database and draining
machinery are bench/outbox.py's. Prints the achieved rate over the limit (target >= 0.9), the
429s received, whistles lost and duplicated (targets 0 and 0), and the elapsed time.

    python bench/whistle.py                          # 10,000 subscribers at 30/s (about 6 min)
    python bench/whistle.py --subscribers 1000
    python bench/whistle.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.outbox import TOKEN, _fresh_database, deliver_all, print_delivery  # noqa: E402
from bot.telegram.emulator import Emulator  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import Identity, Resident, utcnow  # noqa: E402
from storage.whistle.models import Whistle, WhistleDelivery  # noqa: E402
from storage.whistle.whistles import blow_whistle  # noqa: E402

FIRST_USER = 300_000
SECRETARY = 299_999
QUESTION = "3号楼地下车库要不要加装充电桩？请在周五前回答。"


async def _subscribers(engine: AsyncEngine, chats: range) -> None:
    now = utcnow()
    async with session_scope(engine) as session:
        everyone = [Resident(external_id=SECRETARY, name="书记")]
        for chat in chats:
            building = f"{chat % 12 + 1}号楼"
            everyone.append(
                Resident(external_id=chat, name=f"居民{chat}", building=building, subscribed_at=now)
            )
        session.add_all(everyone)
        await session.flush()
        session.add_all(  # where the outbox reaches each of them
            Identity(resident_id=p.id, channel="telegram", external_id=str(p.external_id))
            for p in everyone
            if p.id is not None
        )


async def _blow(engine: AsyncEngine) -> tuple[int, float]:
    """The secretary's whistle to every subscriber, queued by the whistle's own storage
    (storage/whistle/whistles.py: one delivery and one outbox row each); (whistle id, seconds)."""
    started = time.perf_counter()
    async with session_scope(engine) as session:
        query = select(Resident).where(Resident.external_id == SECRETARY)
        secretary = (await session.exec(query)).one()
        whistle = await blow_whistle(
            session,
            secretary=secretary,
            question=QUESTION,
            options=["同意", "不同意", "其他"],
            audience={"groups": [], "subscribers": True, "buildings": []},
            deadline_at=utcnow() + timedelta(days=3),
            display={"tz": "Asia/Shanghai"},
        )
    assert whistle.id is not None
    return whistle.id, time.perf_counter() - started


async def _deliveries(engine: AsyncEngine, whistle_id: int) -> int:
    async with session_scope(engine) as session:
        query = select(WhistleDelivery.id).where(WhistleDelivery.whistle_id == whistle_id)
        return len((await session.exec(query)).all())


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=30.0, help="messages/s, both sides")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    chats = range(FIRST_USER, FIRST_USER + args.subscribers)
    emu = Emulator(token=TOKEN, bot_username="yishi_bot", bot_first_name="Yishi")
    emu.add_user(SECRETARY, "书记", language_code="zh-hans")
    for chat in chats:
        emu.add_user(chat, f"居民{chat}", language_code="zh-hans")
    emu.set_rate_limit(per_chat_per_second=1, overall_per_second=args.limit)
    with tempfile.TemporaryDirectory() as tmp:
        engine = await _fresh_database(args.database_url, tmp)
        try:
            await _subscribers(engine, chats)
            whistle_id, queuing = await _blow(engine)
            deliveries = await _deliveries(engine, whistle_id)
            sender, elapsed, backlog = await deliver_all(emu, engine, limit=args.limit)
            async with session_scope(engine) as session:
                status = (await session.get(Whistle, whistle_id)).status  # type: ignore[union-attr]
        finally:
            await engine.dispose()

    received = Counter(
        chat for chat in chats for m in emu.bot_messages(chat) if QUESTION in (m.get("text") or "")
    )
    lost = sum(1 for chat in chats if not received[chat])
    duplicated = sum(count - 1 for count in received.values())
    buttons = sum(
        1 for chat in chats[:100] for m in emu.bot_messages(chat) if m.get("reply_markup")
    )
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"whistle benchmark: 1 whistle to {args.subscribers} subscribers, {backend}")
    print(f"queued {deliveries} deliveries in {queuing:.1f} s; whistle status: {status}")
    print_delivery(
        limit=args.limit, sent=sum(received.values()), elapsed=elapsed, sender=sender, emu=emu,
        lost=lost, duplicated=duplicated, backlog=backlog,
        detail=f" (with answer buttons: {buttons} of first 100)",
    )  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
