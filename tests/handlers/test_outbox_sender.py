"""The one sender against the emulator: order, flood limits, errors, crashes, two senders."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from telegram import Bot

from bot.emulator import Emulator
from bot.flood import IN_FLIGHT_POLL, FloodLimits
from bot.notices import HEAVY, RENDERERS, Notice, notice
from bot.outbox import Sender
from storage import outbox
from storage.db import create_engine, session_scope
from storage.models import Group, OutboxMessage, Resident
from storage.outbox import Status
from tests.harness import ALICE, GROUP, LI, WANG, BotUnderTest
from tests.storage.factories import resident

# The smallest valid PNG (1x1 transparent pixel): the emulator stores what it is sent.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
FAST: dict[str, Any] = {"overall_per_second": 1000, "per_private_chat_per_second": 1000}
FAST_GROUPS: dict[str, Any] = {**FAST, "per_group_per_minute": 60_000}


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB warns while building a RetryAfter unless opted in to timedelta (as tests/emulator do).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg(emu: Emulator) -> AsyncIterator[Bot]:
    async with emu.bot() as bot:
        yield bot


async def queue(engine: AsyncEngine, plan: list[tuple[int, str]]) -> None:
    """Queue "text" notices in this order; residents are registered, groups are negative."""
    async with session_scope(engine) as s:
        for chat, text in plan:
            to: Resident | Group = Group(external_id=chat) if chat < 0 else await resident(s, chat)
            await outbox.enqueue(s, to=to, kind="text", params={"text": text}, dedup_key=text)


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with session_scope(engine) as s:
        return await outbox.backlog(s)


async def drain(sender: Sender, engine: AsyncEngine, timeout: float = 5.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while (await counts(engine))[Status.PENDING]:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


def texts(emu: Emulator, chat: int) -> list[str]:
    return [m.get("text", "") for m in emu.bot_messages(chat)]


async def test_every_notice_arrives_in_order_per_chat(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    chats = [WANG, LI, ALICE, GROUP]
    await queue(engine, [(chat, f"{chat}-{n}") for n in range(4) for chat in chats])
    sender = Sender(tg, engine, **FAST_GROUPS)
    await drain(sender, engine)
    for chat in chats:
        assert texts(emu, chat) == [f"{chat}-{n}" for n in range(4)]
    assert sender.stats.sent == 16 and (await counts(engine))[Status.SENT] == 16
    async with session_scope(engine) as s:
        row = (await s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == LI))).first()
    assert row is not None and row.sent_message_id == emu.bot_messages(LI)[0]["message_id"]


async def test_429_pauses_everything_for_retry_after_and_drops_nothing(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    await queue(engine, [(WANG, "w1"), (LI, "l1"), (WANG, "w2")])
    emu.fail_next("sendMessage", status=429, retry_after=1)
    sender = Sender(tg, engine, **FAST)
    started = time.monotonic()
    await drain(sender, engine)
    assert texts(emu, WANG) == ["w1", "w2"] and texts(emu, LI) == ["l1"]
    assert sender.stats.rate_limited == 1
    # The 429 was for w1; the pause is bot-wide, so l1 waited as well.
    assert time.monotonic() - started >= 1.0
    async with session_scope(engine) as s:
        w1 = (await s.exec(select(OutboxMessage).where(OutboxMessage.dedup_key == "w1"))).one()
    assert w1.attempts == 0 and "RetryAfter" in (w1.last_error or "")
    assert len(emu.calls_of("sendMessage")) == 4


async def test_server_errors_are_retried_with_growing_backoff(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    await queue(engine, [(WANG, "w1")])
    emu.fail_next("sendMessage", status=502, times=2)
    sender = Sender(tg, engine, **FAST, backoff=0.1, poll_interval=0.02)
    started = time.monotonic()
    await drain(sender, engine)
    assert time.monotonic() - started >= 0.1 + 0.2
    assert texts(emu, WANG) == ["w1"] and sender.stats.retried == 2
    async with session_scope(engine) as s:
        row = (await s.exec(select(OutboxMessage))).one()
    assert row.status == Status.SENT and row.attempts == 2


async def test_a_blocked_person_is_marked_unreachable_and_not_retried(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    emu.block(LI, notify_bot=False)
    await queue(engine, [(LI, "l1"), (WANG, "w1"), (LI, "l2"), (LI, "l3")])
    sender = Sender(tg, engine, **FAST)
    await drain(sender, engine)
    await queue(engine, [(LI, "l4")])  # queued after the block was known
    await drain(sender, engine)
    assert len([c for c in emu.calls_of("sendMessage") if str(c["chat_id"]) == str(LI)]) == 1
    assert texts(emu, WANG) == ["w1"]
    assert (await counts(engine))[Status.UNREACHABLE] == 4
    assert (sender.stats.unreachable, sender.stats.skipped_unreachable) == (1, 1)
    async with session_scope(engine) as s:
        li = (await s.exec(select(Resident).where(Resident.external_id == LI))).one()
    assert li.unreachable_at is not None


async def test_flood_limits_leave_telegram_nothing_to_complain_about(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    others = list(range(5001, 5021))
    for user in others:
        emu.add_user(user, f"居民{user}")
    emu.set_rate_limit(per_chat_per_second=1, overall_per_second=20)
    await queue(engine, [(c, f"{c}-{n}") for n in range(2) for c in (WANG, LI)])
    await queue(engine, [(c, f"{c}-0") for c in others])
    sender = Sender(tg, engine, overall_per_second=20)
    await drain(sender, engine)
    assert sender.stats.rate_limited == 0 and sender.stats.sent == 24
    assert texts(emu, WANG) == [f"{WANG}-{n}" for n in range(2)]


def test_limits_space_chats_and_groups_and_pause_for_429() -> None:
    now = [0.0]
    limits = FloodLimits(
        overall_per_second=30, per_chat_per_second=1, per_group_per_minute=20, clock=lambda: now[0]
    )
    for second in range(20):
        now[0] = float(second)
        assert limits.chat_wait(GROUP) == 0
        limits.record(GROUP)
    limits.record(WANG)
    now[0] = 19.5
    assert limits.chat_wait(GROUP) == pytest.approx(40.5)  # 20 in the last minute
    assert limits.chat_wait(WANG) == pytest.approx(0.5) and limits.chat_wait(LI) == 0
    assert set(limits.busy_chats()) == {GROUP, WANG}
    limits.pause(3)
    assert limits.overall_wait() == pytest.approx(3)
    now[0] = 60.0
    assert limits.busy_chats() == [] and limits.overall_wait() == 0


async def _crash_after_send(monkeypatch: pytest.MonkeyPatch, sender: Sender, emu: Emulator) -> Any:
    """The process dies after Telegram took the 21st notice, before it was recorded."""
    recorded = outbox.mark_sent

    async def mark_sent(session: Any, **kw: Any) -> None:
        if sender.stats.sent == 20:
            raise asyncio.CancelledError
        await recorded(session, **kw)

    monkeypatch.setattr(outbox, "mark_sent", mark_sent)
    with suppress(asyncio.CancelledError):
        await sender.run(asyncio.Event())
    monkeypatch.setattr(outbox, "mark_sent", recorded)


async def _killed_mid_batch(monkeypatch: pytest.MonkeyPatch, sender: Sender, emu: Emulator) -> Any:
    """The task is cancelled wherever it happens to be once 15 notices are out."""
    emu.set_delay("sendMessage", 0.005)
    task = asyncio.create_task(sender.run(asyncio.Event()))
    while sum(len(emu.bot_messages(c)) for c in range(6000, 6050)) < 15:
        await asyncio.sleep(0.001)
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("crash", [_crash_after_send, _killed_mid_batch])
async def test_a_restart_mid_batch_sends_every_notice_once_but_the_one_in_flight(
    emu: Emulator, tg: Bot, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, crash: Any
) -> None:
    chats = list(range(6000, 6050))
    for user in chats:
        emu.add_user(user, f"居民{user}")
    await queue(engine, [(c, f"notice {c}") for c in chats])
    lease = timedelta(seconds=0.3)
    await crash(monkeypatch, Sender(tg, engine, **FAST, lease=lease), emu)
    assert 0 < (await counts(engine))[Status.PENDING] < 50
    await asyncio.sleep(lease.total_seconds())  # the in-flight notice's lease runs out
    fresh = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        await drain(Sender(tg, fresh, **FAST, lease=lease), fresh)
    finally:
        await fresh.dispose()
    delivered = Counter(text for c in chats for text in texts(emu, c))
    assert set(delivered) == {f"notice {c}" for c in chats}
    duplicates = sum(n - 1 for n in delivered.values())
    assert duplicates <= 1
    if crash is _crash_after_send:
        assert duplicates == 1  # the bound is reached: that notice was out, not recorded


async def test_two_senders_on_one_database_never_send_the_same_notice(
    emu: Emulator, tg: Bot, database_url: str, engine: AsyncEngine
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two processes on one SQLite file is not a supported deployment")
    chats = list(range(7000, 7030))
    for user in chats:
        emu.add_user(user, f"居民{user}")
    await queue(engine, [(c, f"{c}-{n}") for n in range(3) for c in chats])
    second = create_engine(database_url)
    senders = [Sender(tg, engine, **FAST, batch=5), Sender(tg, second, **FAST, batch=5)]
    try:
        await asyncio.gather(*(drain(s, e) for s, e in zip(senders, [engine, second], strict=True)))
    finally:
        await second.dispose()
    for chat in chats:
        assert texts(emu, chat) == [f"{chat}-{n}" for n in range(3)]
    sent = [s.stats.sent for s in senders]
    assert sum(sent) == 90 and all(sent)  # both took part, neither sent a row twice


async def test_the_running_bot_sends_what_is_queued(bot: BotUnderTest) -> None:
    await queue(bot.engine, [(WANG, "你的反映已受理")])
    bot.sender.wake()
    message = await bot.emu.wait_for_bot_message(WANG, predicate=lambda m: "受理" in m["text"])
    assert message["text"] == "你的反映已受理"


@pytest.fixture
def picture_and_edit_kinds() -> Iterator[None]:
    """Two kinds the features use: a drawn picture (heavy) and an edit of a live report."""

    @notice("test_picture", heavy=True)
    def _picture(params: dict[str, Any], lang: str) -> Notice:
        return Notice(text=params["caption"], image=render_png())

    @notice("test_edit")
    def _edit(params: dict[str, Any], lang: str) -> Notice:
        return Notice(text=params["text"], edit_message_id=params["message_id"])

    yield
    for kind in ("test_picture", "test_edit"):
        RENDERERS.pop(kind)
        HEAVY.discard(kind)


def render_png() -> bytes:
    # Heavy renderers run in a thread; prove it by failing if this one runs on the loop's thread.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    return PNG


async def test_a_drawn_picture_is_sent_as_a_photo_and_an_edit_changes_the_message_in_place(
    emu: Emulator, tg: Bot, engine: AsyncEngine, picture_and_edit_kinds: None
) -> None:
    await queue(engine, [(WANG, "report: 0 of 2 sent")])
    sender = Sender(tg, engine, **FAST)
    await drain(sender, engine)
    [report] = emu.bot_messages(WANG)
    async with session_scope(engine) as s:
        wang = await resident(s, WANG)
        await outbox.enqueue(
            s, to=wang, kind="test_picture", params={"caption": "chart"}, dedup_key="picture"
        )
        for n, text in enumerate(["report: 1 of 2 sent", "report: 2 of 2 sent"]):
            params = {"text": text, "message_id": report["message_id"]}
            await outbox.enqueue(s, to=wang, kind="test_edit", params=params, dedup_key=f"e{n}")
        # The same words again: Telegram says "not modified", which is success, not failure.
        params = {"text": "report: 2 of 2 sent", "message_id": report["message_id"]}
        await outbox.enqueue(s, to=wang, kind="test_edit", params=params, dedup_key="again")
    await drain(sender, engine)
    first, photo = emu.bot_messages(WANG)
    assert first["message_id"] == report["message_id"]
    assert first["text"] == "report: 2 of 2 sent" and "edit_date" in first
    assert photo["caption"] == "chart" and photo["photo"]
    backlog = await counts(engine)
    assert (backlog[Status.SENT], backlog[Status.FAILED], backlog[Status.PENDING]) == (5, 0, 0)


def test_a_send_in_flight_holds_its_place_until_its_answer() -> None:
    now = [0.0]
    limits = FloodLimits(
        overall_per_second=2, per_chat_per_second=1, per_group_per_minute=20, clock=lambda: now[0]
    )

    async def acquire(chat: int) -> float:
        return await limits.acquire(chat, sleep=asyncio.sleep)

    assert asyncio.run(acquire(WANG)) == 0
    assert limits.chat_wait(WANG) == IN_FLIGHT_POLL  # taken, though not yet answered
    assert limits.chat_wait(LI) == 0 and limits.overall_wait() == 0
    asyncio.run(acquire(LI))
    assert limits.overall_wait() == IN_FLIGHT_POLL  # both overall places are in flight
    now[0] = 0.5
    limits.settle(WANG)  # answered: its place frees a second after the answer
    assert limits.chat_wait(WANG) == pytest.approx(1.0)
    assert limits.overall_wait() == pytest.approx(1.0)  # one answered, one still in flight
    limits.settle(LI, sent=False)  # refused with 429: Telegram did not count it
    assert limits.chat_wait(LI) == 0 and limits.overall_wait() == 0
