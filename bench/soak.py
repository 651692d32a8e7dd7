"""Soak test: hundreds of residents against the real `yishi run` while Telegram misbehaves.

For a given number of minutes, simulated residents (bench/soak_people.py) report through the
buttons, follow up with /mycases and /case, and answer the secretary's whistles (one every
minute or so, queued through storage as a confirmed whistle would be, delivered by the bot's
own sender). Meanwhile the emulator answers 429s, 500/502s and slow sends, and the bot process
is stopped and started every few minutes, alternately by SIGTERM and SIGKILL (bench/soak_bot.py).
Some residents and one staff member have blocked the bot. At the end the outbox is drained and
bench/soak_check.py checks that every confirmed report became exactly one case and every
notice was delivered once (or marked unreachable); it prints counts and latency percentiles
and exits 1 if a check failed. Not part of the test suite.

    .venv/bin/python bench/soak.py --minutes 5 --residents 300
    .venv/bin/python bench/soak.py --minutes 3 --residents 200 --restart-every 1 \\
        --database postgresql://postgres@127.0.0.1:5432/soak      # emptied first!
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402

from bench.harness import fresh_engine  # noqa: E402
from bench.soak_bot import CUT_OFF, inject_faults, restart_now_and_then  # noqa: E402
from bench.soak_check import (  # noqa: E402
    notice_checks,
    print_soak,
    report_checks,
    restart_checks,
)
from bench.soak_people import Person  # noqa: E402
from bench.soak_watch import Stats, Watch  # noqa: E402
from bot.config import normalise_database_url  # noqa: E402
from bot.telegram.emulator import Emulator, serve_in_background  # noqa: E402
from bot.telegram.emulator.bot_process import BotProcess, bot_env  # noqa: E402
from storage.db import session_scope  # noqa: E402
from storage.models import Identity, OutboxMessage, Resident, Unit, utcnow  # noqa: E402
from storage.people.roles import Role, grant  # noqa: E402
from storage.whistle.whistles import blow_whistle  # noqa: E402

TOKEN = "123456:SOAK"
FIRST_RESIDENT = 20_000
FIRST_BLOCKED = 40_000
FIRST_STAFF = 50_000
SECRETARY = 59_999


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("--database", default=None, help="PostgreSQL URL (it is emptied)")
    parser.add_argument("--restart-every", type=float, default=2.0, help="minutes")
    parser.add_argument("--fault-every", type=float, default=4.0, help="seconds")
    parser.add_argument("--whistle-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--pace", type=float, default=4.0, help="seconds between a person's acts")
    parser.add_argument("--blocked", type=int, default=4, help="residents who blocked the bot")
    parser.add_argument("--drain", type=float, default=240.0, help="seconds allowed to drain")
    parser.add_argument("--keep-log", type=Path, default=None, help="copy the bot's log here")
    return parser.parse_args()


async def _seed(engine: AsyncEngine, emu: Emulator, blocked: range) -> int:
    """Staff (two per unit, the first of them has blocked the bot), two mediators, the
    secretary, and subscribers who have blocked the bot; the secretary's id is returned."""
    now = utcnow()
    async with session_scope(engine) as session:
        units = (await session.exec(select(Unit).where(col(Unit.active)))).all()
        people: list[tuple[Resident, Role, int | None]] = []
        chat = FIRST_STAFF
        for unit in units:
            for _ in range(2):
                staff = Resident(external_id=chat, name=f"{unit.code}员工")
                people.append((staff, Role.STAFF, unit.id))
                chat += 1
        for _ in range(2):
            people.append((Resident(external_id=chat, name="调解员"), Role.MEDIATOR, None))
            chat += 1
        secretary = Resident(external_id=SECRETARY, name="书记")
        people.append((secretary, Role.SECRETARY, None))
        for person, role, unit_id in people:
            session.add(person)
            await session.flush()
            assert person.id is not None
            session.add(
                Identity(
                    resident_id=person.id, channel="telegram", external_id=str(person.external_id)
                )
            )
            await grant(session, resident=person, role=role, unit_id=unit_id)
            emu.add_user(person.external_id, person.name, language_code="zh-hans")
        for uid in blocked:
            subscriber = Resident(external_id=uid, name=f"居民{uid}", subscribed_at=now)
            session.add(subscriber)
            await session.flush()
            assert subscriber.id is not None
            session.add(
                Identity(resident_id=subscriber.id, channel="telegram", external_id=str(uid))
            )
            emu.add_user(uid, f"居民{uid}", language_code="zh-hans")
    emu.block(FIRST_STAFF, notify_bot=False)
    for i, uid in enumerate(blocked):  # half tell the bot (my_chat_member), half let it find out
        emu.block(uid, notify_bot=bool(i % 2))
    assert secretary.id is not None
    return secretary.id


async def _whistles(engine: AsyncEngine, secretary: int, stats: Stats, every: float) -> None:
    """The secretary's whistle to every subscriber, now and then, as a confirmed draft."""
    await asyncio.sleep(min(20.0, every))
    while True:
        number = stats.counts["whistles blown"] + 1
        async with session_scope(engine) as session:
            await blow_whistle(
                session,
                secretary=await session.get_one(Resident, secretary),
                question=f"第{number}次征求意见：3号楼车库要不要加装充电桩？",
                options=["同意", "不同意", "再议"],
                audience={"groups": [], "subscribers": True, "buildings": []},
                deadline_at=utcnow() + timedelta(days=1),
                display={"tz": "Asia/Shanghai"},
            )
        stats.counts["whistles blown"] += 1
        await asyncio.sleep(every)


async def _drain(engine: AsyncEngine, timeout: float) -> float:
    """Wait until no notice is queued and due within a minute; seconds it took."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < timeout and quiet < 2:
        await asyncio.sleep(1.0)
        soon = utcnow() + timedelta(seconds=60)
        async with session_scope(engine) as session:
            query = select(func.count()).where(
                OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= soon
            )
            quiet = quiet + 1 if not (await session.exec(query)).one() else 0
    return time.monotonic() - started


def _crashes(tasks: set[asyncio.Task[None]], stats: Stats) -> None:
    """A resident that crashed is a bug of this script: count it and show the first one."""
    crashed = [t.exception() for t in tasks if t.exception() is not None]
    stats.counts["residents crashed (script bug)"] = len(crashed)
    if crashed:
        traceback.print_exception(crashed[0])


async def _soak(args: argparse.Namespace, tmp: Path) -> bool:
    url = normalise_database_url(args.database or f"sqlite+aiosqlite:///{tmp}/soak.db")
    engine = await fresh_engine(url)
    emu = Emulator(token=TOKEN, bot_username="yishi_bot", bot_first_name="Yishi")
    residents = range(FIRST_RESIDENT, FIRST_RESIDENT + args.residents)
    for uid in residents:
        emu.add_user(uid, f"居民{uid}", language_code="zh-hans")
    secretary = await _seed(engine, emu, range(FIRST_BLOCKED, FIRST_BLOCKED + args.blocked))
    stats, watch = Stats(), Watch(emu)
    async with serve_in_background(emu) as base_url:
        bot = BotProcess(emu, tmp, bot_env(base_url, url, TOKEN))
        try:
            await bot.start()
            started = time.monotonic()
            until = started + args.minutes * 60
            done = asyncio.Event()
            background = [
                asyncio.create_task(watch.run()),
                asyncio.create_task(inject_faults(emu, stats, args.fault_every)),
                asyncio.create_task(_whistles(engine, secretary, stats, args.whistle_every)),
            ]
            restarter = asyncio.create_task(
                restart_now_and_then(bot, stats, args.restart_every * 60, done)
            )
            people = [Person(uid, emu, watch, stats, args.pace) for uid in residents]
            living = [asyncio.create_task(p.live(until)) for p in people]
            finished, unfinished = await asyncio.wait(living, timeout=args.minutes * 60 + 60)
            _crashes(finished, stats)
            for task in unfinished:  # stuck past the grace: what they submitted still counts
                task.cancel()
            stats.counts["residents cut off at the end"] = len(unfinished)
            active = time.monotonic() - started
            for task in background[1:]:
                task.cancel()
            emu.set_delay("sendMessage", 0)
            done.set()
            await restarter
            stats.counts["seconds to drain"] = round(await _drain(engine, args.drain))
            final = await bot.stop()
            final["ready after"] = None
            stats.restarts.append(final)
            background[0].cancel()
        finally:
            await bot.kill_if_running()
    kills = sum(r["signal"] == "SIGKILL" for r in stats.restarts)
    reports = await report_checks(engine, stats)
    notices, delivery = await notice_checks(engine, emu, stats, kills)
    await engine.dispose()
    updates = len(emu.updates())
    backend = "PostgreSQL" if args.database else "SQLite"
    header = (
        f"soak: {args.minutes:g} min ({active:.0f} s active), {args.residents} residents "
        f"(+{args.blocked} who blocked the bot), {backend}, restart every "
        f"{args.restart_every:g} min, a fault every ~{args.fault_every:g} s"
    )
    activity = {
        "updates sent to the bot": updates,
        "updates per second (active)": round(updates / active),
        "bot API calls answered": len(emu.world.calls),
        "requests cut off by a kill (emulator)": CUT_OFF.count,
    }
    if args.keep_log:
        shutil.copyfile(tmp / "bot.log", args.keep_log)
    log = (tmp / "bot.log").read_text(errors="replace")
    checks = {"reports": reports, "notices": notices, "stops": restart_checks(stats)}
    return print_soak(header, activity, stats, checks, delivery, log)


def main() -> None:
    args = _arguments()
    logging.getLogger("uvicorn.error").addFilter(CUT_OFF)
    with tempfile.TemporaryDirectory(prefix="yishi-soak-") as tmp:
        ok = asyncio.run(_soak(args, Path(tmp)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
