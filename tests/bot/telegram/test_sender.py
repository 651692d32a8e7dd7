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
from sqlmodel import col, select
from telegram import Bot

from bot.telegram.emulator import Emulator
from bot.telegram.flood import IN_FLIGHT_POLL, FloodLimits
from bot.telegram.sender import Sender
from handlers.notices import HEAVY, RENDERERS, Notice, notice
from storage import outbox
from storage.cases.delivery_failures import KIND
from storage.db import create_engine, session_scope
from storage.models import Group, OutboxMessage, Resident
from storage.outbox import Status
from storage.people.roles import Role, grant
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest
from tests.storage.factories import resident

# The smallest valid PNG (1x1 transparent pixel): the emulator stores what it is sent.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
FAST: dict[str, Any] = {"overall_per_second": 1000, "per_private_chat_per_second": 1000}
GUEST = 1005  # a resident who blocked the bot
FAST_GROUPS: dict[str, Any] = {**FAST, "per_group_per_minute": 60_000}


@pytest.fixture(autouse=True)
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB warns while building a RetryAfter unless opted in to timedelta (as
    # tests/bot/telegram/emulator do).
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
        row = (await s.exec(select(OutboxMessage).where(OutboxMessage.address == str(LI)))).first()
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


@pytest.fixture
def long_kinds() -> Iterator[None]:
    """Notices longer than Telegram takes in one message or one caption (issue 15, defect 2)."""

    @notice("test_long")
    def _long(params: dict[str, Any], lang: str) -> Notice:
        return Notice(text=params["text"], buttons=[[("OK", "t1:ok")]])

    @notice("test_long_picture", heavy=True)
    def _long_picture(params: dict[str, Any], lang: str) -> Notice:
        return Notice(text=params["text"], image=PNG, buttons=[[("OK", "t1:ok")]])

    @notice("test_long_edit")
    def _long_edit(params: dict[str, Any], lang: str) -> Notice:
        return Notice(text=params["text"], edit_message_id=params["message_id"])

    @notice("test_bad_button")
    def _bad_button(params: dict[str, Any], lang: str) -> Notice:
        return Notice(text="press", buttons=[[("too long", "x" * 65)]])

    yield
    for kind in ("test_long", "test_long_picture", "test_long_edit", "test_bad_button"):
        RENDERERS.pop(kind)
        HEAVY.discard(kind)


async def queue_kind(engine: AsyncEngine, chat: int, kind: str, key: str, **params: Any) -> None:
    async with session_scope(engine) as s:
        to = await resident(s, chat)
        await outbox.enqueue(s, to=to, kind=kind, params=params, dedup_key=key)


async def test_a_text_over_4096_goes_as_several_messages_cut_at_line_breaks(
    emu: Emulator, tg: Bot, engine: AsyncEngine, long_kinds: None
) -> None:
    lines = [f"第{n:02d}行：" + "议" * 95 for n in range(100)]  # 100 lines of 100 characters
    await queue_kind(engine, WANG, "test_long", "long", text="\n".join(lines))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(seconds)

    await drain(Sender(tg, engine, sleep=sleep), engine)
    parts = emu.bot_messages(WANG)
    assert [len(m["text"]) for m in parts] == [4039, 4039, 2019]  # 40, 40 and 20 whole lines
    assert "\n".join(m["text"] for m in parts) == "\n".join(lines)
    assert [bool(m.get("reply_markup")) for m in parts] == [False, False, True]
    assert sum(sleeps) >= 1.9  # one message a second in a private chat, parts included
    async with session_scope(engine) as s:
        row = (await s.exec(select(OutboxMessage))).one()
    assert (row.status, row.sent_message_id) == (Status.SENT, parts[-1]["message_id"])


async def test_length_is_counted_in_utf16_code_units_as_telegram_counts_it(
    emu: Emulator, tg: Bot, engine: AsyncEngine, long_kinds: None
) -> None:
    """2,049 emoji are 2,049 characters but 4,098 code units: too long for one message."""
    await queue_kind(engine, WANG, "test_long", "emoji", text="😀" * 2049)
    await drain(Sender(tg, engine, **FAST), engine)
    assert [len(m["text"]) for m in emu.bot_messages(WANG)] == [2048, 1]


async def test_a_picture_with_words_over_a_caption_goes_first_and_the_words_follow(
    emu: Emulator, tg: Bot, engine: AsyncEngine, long_kinds: None
) -> None:
    words = "The chart of the month. " * 50  # 1,200 characters
    await queue_kind(engine, WANG, "test_long_picture", "picture", text=words)
    await queue_kind(engine, LI, "test_long_picture", "short", text="A short caption")
    await drain(Sender(tg, engine, **FAST), engine)
    photo, text = emu.bot_messages(WANG)
    assert photo["photo"] and "caption" not in photo and "reply_markup" not in photo
    assert text["text"] == words.strip() and text["reply_markup"]
    [captioned] = emu.bot_messages(LI)
    assert captioned["caption"] == "A short caption" and captioned["reply_markup"]


async def test_an_edit_over_4096_is_cut_with_an_ellipsis(
    emu: Emulator, tg: Bot, engine: AsyncEngine, long_kinds: None
) -> None:
    await queue(engine, [(WANG, "report: starting")])
    await drain(Sender(tg, engine, **FAST), engine)
    [report] = emu.bot_messages(WANG)
    text = "report line\n" * 400  # 4,800 characters
    await queue_kind(
        engine, WANG, "test_long_edit", "edit", text=text, message_id=report["message_id"]
    )
    await drain(Sender(tg, engine, **FAST), engine)
    [edited] = emu.bot_messages(WANG)
    assert edited["text"] == text[:4095] + "…"


async def secretary(engine: AsyncEngine, chat: int) -> None:
    async with session_scope(engine) as s:
        await grant(s, resident=await resident(s, chat, lang="en"), role=Role.SECRETARY)


async def test_notices_given_up_for_good_reach_the_secretaries_once_each(
    emu: Emulator, tg: Bot, engine: AsyncEngine, long_kinds: None
) -> None:
    """Refused (400), unrenderable (a button Telegram would refuse, an unknown kind) and out of
    attempts (5xx) are each told to the secretary in words; a 403 is the person's choice."""
    await secretary(engine, ALICE)
    emu.fail_next("sendMessage", status=400, description="Bad Request: chat not found", chat_id=LI)
    emu.fail_next("sendMessage", status=502, times=outbox.MAX_ATTEMPTS, chat_id=ZHAO)
    emu.add_user(GUEST, "Guest")
    emu.block(GUEST, notify_bot=False)
    await queue(engine, [(LI, "refused"), (ZHAO, "five hundred"), (GUEST, "blocked")])
    await queue_kind(engine, WANG, "test_bad_button", "button")
    await queue_kind(engine, WANG, "no_such_kind", "unknown")
    await drain(Sender(tg, engine, **FAST, backoff=0.001), engine)
    assert emu.bot_messages(WANG) == [] and texts(emu, LI) == [] and texts(emu, ZHAO) == []
    assert sorted(texts(emu, ALICE)) == [
        "⚠️ A notice could not be delivered to Resident 1001: the bot could not put it into "
        "words (a fault in the bot). Please let them know another way.",
    ] * 2 + [
        "⚠️ A notice could not be delivered to Resident 1002: Telegram refused it "
        "(Chat not found). Please let them know another way.",
        "⚠️ A notice could not be delivered to Resident 1003: it still failed after 8 tries. "
        "Please let them know another way.",
    ]
    backlog = await counts(engine)
    assert (backlog[Status.FAILED], backlog[Status.UNREACHABLE], backlog[Status.SENT]) == (4, 1, 4)


async def test_a_failure_notice_that_fails_is_not_reported_again(
    emu: Emulator, tg: Bot, engine: AsyncEngine
) -> None:
    await secretary(engine, ALICE)
    await secretary(engine, LI)
    emu.fail_next("sendMessage", status=400, chat_id=WANG)
    emu.fail_next("sendMessage", status=400, chat_id=ALICE)
    emu.fail_next("sendMessage", status=400, chat_id=LI)
    await queue(engine, [(WANG, "first")])
    await drain(Sender(tg, engine, **FAST), engine)
    async with session_scope(engine) as s:
        rows = (await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert [(r.kind, int(r.address), r.status) for r in rows] == [
        ("text", WANG, Status.FAILED),
        (KIND, ALICE, Status.FAILED),
        (KIND, LI, Status.FAILED),
    ]


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
